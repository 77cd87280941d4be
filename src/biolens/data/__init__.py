"""Small samples of public datasets shipped inside the package (see ``biolens samples``).

Any command that takes an input file also takes ``sample:NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..core.errors import InputError

__all__ = ["SAMPLES", "Sample", "resolve_input", "sample_path"]


@dataclass(frozen=True)
class Sample:
    name: str
    path: str
    description: str
    source: str
    license: str


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in [
        Sample(
            "solubility", "proteins/solubility.csv",
            "400 proteins from DeepSol's validation split (columns sequences,labels; 1 = soluble)",
            "sameerkhurana10/DSOL_rv0.2", "MIT",
        ),
        Sample(
            "ogbl-ddi-sample", "graphs/ogbl_ddi_sample",
            "400-drug induced subgraph of ogbl-ddi in the OGB layout (10,466 interactions; "
            "1,263/877 valid positives/negatives from OGB's valid split)",
            "OGB ogbl-ddi (snap-stanford/ogb), derived from DrugBank", "DrugBank-derived; research use",
        ),
    ]
}


def sample_path(name: str) -> Path:
    """The file (or OGB-layout folder) of a shipped sample."""
    if name not in SAMPLES:
        raise InputError(f"unknown sample {name!r}; shipped samples: {sorted(SAMPLES)}")
    return Path(str(resources.files(__package__) / SAMPLES[name].path))


def resolve_input(value: str | Path) -> Path:
    """``sample:NAME`` -> the shipped file; ``sample:NAME/REST`` -> a file inside a shipped
    folder (e.g. ``sample:ogbl-ddi-sample/split/target/valid.pt``); anything else -> a path."""
    text = str(value)
    if text.startswith("sample:"):
        name, _, rest = text.removeprefix("sample:").partition("/")
        path = sample_path(name)
        return path / rest if rest else path
    return Path(value)
