"""``--suite public``: the benchmark's tasks on the full public files a user downloads, in the
formats as published, each with its source and the published numbers of well-known models on the
same split (shown beside ours, marked as reported, not run here).

``--data DIR`` holds (any subset; ``--tasks`` picks)::

    DIR/deepsol/                  DeepSol (Khurana et al. 2018; github.com/sameerkhurana10/DSOL_rv0.2, data/):
                                  train_src, train_tgt, val_src, val_tgt, test_src, test_tgt
    DIR/deeploc/deeploc_data.fasta  DeepLoc 1.0 (Almagro Armenteros et al. 2017): >ID Location-M|S|U [test]
    DIR/flip/gb1/three_vs_rest.csv  FLIP GB1 (Dallago et al. 2021): sequence,target,set,validation
    DIR/flip/secondary_structure/   FLIP secondary structure: sequences.fasta, sampled.fasta, mask.fasta
    DIR/deepfri/nrPDB-EC_2020.04_annot.tsv  DeepFRI EC (Gligorijevic et al. 2021) with its train/valid/test
                                  chain lists (nrPDB-EC_2020.04_{train,valid,test}.txt) and a FASTA of the
                                  chains' sequences beside it (``*EC*sequences.fasta``)

Only numbers reported on the same split are listed (``../shared/docs/REFERENCES.md`` of the project
names each source). GO (CAFA 5's files) has no public test labels, so it is not in the suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ._suite import Reported, TaskSpec

__all__ = ["PUBLIC_TASKS", "public_tasks", "reported_rows"]

_DEEPLOC = "DeepLoc 1.0 (Almagro Armenteros et al. 2017, Bioinformatics), its own test split"
_STARK = "Stärk et al. 2021 (light attention), HannesStark/protein-localization README"
PUBLIC_TASKS: dict[str, TaskSpec] = {t.name: t for t in [
    TaskSpec(name="solubility", loader="solubility", data="deepsol",
             source="DeepSol (Khurana et al. 2018, Bioinformatics): 62,478 train, 6,942 validation, 2,001 test",
             split_note="DeepSol's own train/validation/test split",
             reported=(Reported(model="DeepSol (CNN)", metric="accuracy", value=0.77,
                                source="Khurana et al. 2018, Bioinformatics (abstract; MCC 0.55)"),)),
    TaskSpec(name="localization", loader="localization", data="deeploc/deeploc_data.fasta", source=_DEEPLOC,
             split_note="DeepLoc's own split: its test proteins are the test set, validation carved from the rest",
             reported=(Reported(model="DeepLoc", metric="accuracy", value=0.7797, source=_STARK),
                       Reported(model="ProtT5 + light attention", metric="accuracy", value=0.8601, source=_STARK),
                       Reported(model="ESM2-650M fine-tuned", metric="accuracy", value=0.8209,
                                source="westlake-repl/SaProt README"))),
    TaskSpec(name="membrane", loader="membrane", data="deeploc/deeploc_data.fasta", source=_DEEPLOC,
             split_note="DeepLoc's own split (proteins marked U are left out)"),
    TaskSpec(name="enzyme", loader="enzyme", data="deepfri/nrPDB-EC_2020.04_annot.tsv",
             source="DeepFRI nrPDB-EC 2020.04 (Gligorijevic et al. 2021, Nat. Commun.), 538 EC numbers",
             split_note="DeepFRI's own train/valid/test chain lists (test chains < 95% identity to train)",
             reported=(Reported(model="GearNet-Edge", metric="fmax", value=0.810,
                                source="Zhang et al. 2023, DeepGraphLearning/GearNet README"),
                       Reported(model="ESM2-650M", metric="fmax", value=0.868, source="westlake-repl/SaProt README"),
                       Reported(model="ESM2-35M", metric="fmax", value=0.825, source="westlake-repl/SaProt README"))),
    TaskSpec(name="gb1", loader="gb1", data="flip/gb1/three_vs_rest.csv",
             source="FLIP GB1 (Dallago et al. 2021), three_vs_rest",
             split_note="FLIP's three_vs_rest split: train on variants with up to 3 mutations, test on the rest",
             reported=(Reported(model="one-hot baseline", metric="spearman", value=0.838,
                                source="LSSI-ETH/plmfit results_matrices.py"),
                       Reported(model="ESM2-650M frozen", metric="spearman", value=0.80,
                                source="LSSI-ETH/plmfit results_matrices.py (read off: about 0.80)"))),
    TaskSpec(name="secondary-structure", loader="secondary-structure", data="flip/secondary_structure",
             source="FLIP secondary structure (NetSurfP-2.0 data), the sampled split (95/5 random)",
             split_note="FLIP's sampled split; no published number on it (ProtT5's Q3 0.86 is on CB513, another set)"),
]}


def public_tasks(root: str | Path, names: Sequence[str] | None = None) -> tuple[TaskSpec, ...]:
    """The public tasks (``names``, or every one whose files are in ``root``) with paths under ``root``.

    Raises:
        InputError: ``root`` is not a folder, a named task is unknown or its files are missing (the
            message says what the folder must hold), or no task's files are there.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise InputError(f"--data {root}: not a folder (the public suite reads the published files from it)")
    unknown = [n for n in names or () if n not in PUBLIC_TASKS]
    if unknown:
        raise InputError(f"unknown public task(s) {unknown}; choose from {list(PUBLIC_TASKS)}")
    chosen = [PUBLIC_TASKS[n] for n in dict.fromkeys(names)] if names else list(PUBLIC_TASKS.values())
    found, missing = [], []
    for spec in chosen:
        path = root / spec.data
        (found if path.exists() else missing).append((spec, path))
    if names and missing:
        raise InputError("; ".join(f"{spec.name}: {path} is missing ({spec.source})" for spec, path in missing)
                         + f". See `biolens benchmark --list` for the layout of {root}")
    if not found:
        raise InputError(f"{root} holds none of the public suite's files (expected e.g. {root / 'deepsol'}, "
                         f"{root / 'deeploc' / 'deeploc_data.fasta'}); see `biolens benchmark --list`")
    return tuple(replace(spec, data=str(path)) for spec, path in found)


def reported_rows(tasks: Sequence[TaskSpec], cells: Sequence[Any]) -> list[dict[str, str]]:
    """One row per published number: the task, the reported model and value (with its source) and
    the best value of the same metric among this run's models on the same task, with its interval."""
    rows = []
    for spec in tasks:
        results = [c for c in cells if c.task.name == spec.name and c.result is not None]
        for rep in spec.reported:
            have = [c for c in results if rep.metric in c.result.metrics]
            best = max(have, key=lambda c: c.result.metrics[rep.metric]["value"], default=None)
            ours = "n/a"
            if best is not None:
                m = best.result.metrics[rep.metric]
                ours = f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}] ({best.model.name})"
            rows.append({"task": spec.name, "metric": rep.metric, "reported model": rep.model,
                         "reported (not run here)": f"{rep.value:.3f}", "source": rep.source, "best here": ours})
    return rows
