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
        Sample(
            "deeploc", "proteins/deeploc.fasta",
            "300 DeepLoc 1.0 proteins (150 validation, 150 test), headers as published: >ACC Location-M|S|U [test]",
            "HannesStark/protein-localization", "MIT",
        ),
        Sample(
            "enzyme", "proteins/enzyme/nrPDB-EC_sample_sequences.fasta",
            "300 DeepFRI nrPDB-EC test chains with their EC annotation rows (nrPDB-EC_sample_annot.tsv beside it) "
            "and a homology-aware split (nrPDB-EC_sample_{train,valid,test}.txt: MMseqs2 clusters at 30% identity)",
            "flatironinstitute/DeepFRI", "BSD-3-Clause",
        ),
        Sample(
            "gb1", "proteins/gb1_three_vs_rest.csv",
            "400 GB1 variants of FLIP's three_vs_rest split (sequence,target,set,validation)",
            "J-SNACKKB/FLIP", "AFL-3.0",
        ),
        Sample(
            "standard-solubility", "proteins/standard/solubility.csv.gz",
            "2,700 proteins from DeepSol's validation split with a homology-aware split column (MMseqs2 30% "
            "identity clusters: 1,512 train, 189 validation, 999 test)",
            "sameerkhurana10/DSOL_rv0.2", "MIT",
        ),
        Sample(
            "standard-deeploc", "proteins/standard/deeploc.fasta.gz",
            "2,200 DeepLoc 1.0 proteins (1,200 validation-file, 1,000 test-file), headers as published",
            "HannesStark/protein-localization", "MIT",
        ),
        Sample(
            "standard-enzyme", "proteins/standard/enzyme/nrPDB-EC_standard_sequences.fasta",
            "all 1,920 DeepFRI nrPDB-EC test chains with sequences, their EC rows and a homology-aware split "
            "(MMseqs2 30% identity clusters: 957 train, 193 validation, 770 test)",
            "flatironinstitute/DeepFRI", "BSD-3-Clause",
        ),
        Sample(
            "standard-gb1", "proteins/standard/gb1_three_vs_rest.csv.gz",
            "3,990 GB1 variants of FLIP's three_vs_rest split: all 2,990 training variants + 1,000 test variants",
            "J-SNACKKB/FLIP", "AFL-3.0",
        ),
        Sample(
            "standard-secondary-structure", "proteins/standard/secondary_structure",
            "1,364 FLIP secondary-structure proteins: all 364 test proteins of its sampled split, 900 train, 100 "
            "validation (sequences, H/E/C labels, masks)",
            "J-SNACKKB/FLIP", "AFL-3.0",
        ),
        Sample(
            "secondary-structure", "proteins/secondary_structure",
            "100 FLIP secondary-structure proteins (70 train, 15 validation, 15 test): sequences, H/E/C labels, masks",
            "J-SNACKKB/FLIP", "AFL-3.0",
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
        Sample(
            "structures", "structure",
            "folder: 4 unbound PDB files (BM5) + 4 mmCIF entries with a chain list (CATH single domains)",
            "haddocking/BM5-clean; PDB entries via zibaee-2021/MSc_2024_project", "Apache-2.0 (BM5); CC0 (PDB)",
        ),
    ]
}


def sample_path(name: str) -> Path:
    """The file (or OGB-layout folder) of a shipped sample."""
    if name not in SAMPLES:
        raise InputError(f"unknown sample {name!r}; shipped samples: {sorted(SAMPLES)}")
    return Path(str(resources.files(__package__) / SAMPLES[name].path))


def resolve_input(value: str | Path) -> Path:
    """``sample:NAME`` -> the shipped file or folder; ``sample:NAME/FILE`` -> a file inside a
    shipped folder (e.g. ``sample:ogbl-ddi-sample/split/target/valid.pt``); anything else -> a path."""
    text = str(value)
    if text.startswith("sample:"):
        name, _, inner = text.removeprefix("sample:").partition("/")
        path = sample_path(name)
        if not inner:
            return path
        if not path.is_dir() or not (path / inner).is_file():
            raise InputError(f"sample {name!r} has no file {inner!r}" if path.is_dir() else f"sample {name!r} is a file, not a folder")
        return path / inner
    return Path(value)
