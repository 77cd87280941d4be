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
            "ctcfl_train", "dna/CTCFL_K562_HudsonAlpha_AC_sample.seq.gz",
            "600 CTCFL ChIP-seq peaks, 101 bp, positives only (DeepBind _AC format)",
            "ENCODE via jisraeli/DeepBind", "ENCODE data release policy (no restrictions)",
        ),
        Sample(
            "ctcfl_test", "dna/CTCFL_K562_HudsonAlpha_B_sample.seq.gz",
            "100 CTCFL peaks + 100 shuffled negatives, 101 bp (DeepBind _B test rows)",
            "ENCODE via jisraeli/DeepBind", "ENCODE data release policy (no restrictions)",
        ),
        Sample(
            "ctcf_test", "dna/CTCF_NH-A_Broad_B_sample.seq.gz",
            "100 CTCF peaks + 100 shuffled negatives, 101 bp (DeepBind format)",
            "lab-rasool/TFBS", "MIT",
        ),
    ]
}


def sample_path(name: str) -> Path:
    """The file of a shipped sample."""
    if name not in SAMPLES:
        raise InputError(f"unknown sample {name!r}; shipped samples: {sorted(SAMPLES)}")
    return Path(str(resources.files(__package__) / SAMPLES[name].path))


def resolve_input(value: str | Path) -> Path:
    """``sample:NAME`` -> the shipped file; anything else -> a path."""
    text = str(value)
    if text.startswith("sample:"):
        return sample_path(text.removeprefix("sample:"))
    return Path(value)
