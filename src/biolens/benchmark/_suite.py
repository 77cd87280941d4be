"""What a benchmark runs: tasks (:class:`TaskSpec`), models (:class:`ModelSpec`: an encoder and
the head trained on it) and the settings of every cell (:class:`BenchmarkConfig`).

The default suite runs on the samples shipped inside the package, with the encoders that work
offline. Every choice below is a setting of :class:`BenchmarkConfig`, saved with the run;
the CLI's ``--encoders``, ``--tasks`` and ``--heads`` replace parts of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.train import TrainConfig
from ..proteins.supervised import HEADS, HeadConfig
from ..proteins.tasks import TaskData, combine, load_task

__all__ = ["DEFAULT_ENCODERS", "DEFAULT_HEADS", "DEFAULT_SUITE", "DEFAULT_TASKS", "STANDARD_TASKS", "SUITES",
           "SUITE_ENCODERS", "SUITE_TASKS", "TASKS",
           "BenchmarkConfig", "ModelSpec", "Reported", "TaskSpec", "load_task_data", "parse_heads", "pick_tasks"]


@dataclass(frozen=True, kw_only=True)
class Reported:
    """A published number on the same split as the task's, shown beside ours and marked as reported
    (not run here). ``metric`` is a key of the task's metrics (``accuracy``, ``fmax``, ...)."""

    model: str
    metric: str
    value: float
    source: str


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """One downstream task of the benchmark.

    Attributes:
        name: the task's name on the leaderboard.
        loader: the :func:`biolens.proteins.tasks.load_task` name that reads ``data``.
        data: a file or ``sample:NAME``; ``test_data`` an optional separate test file.
        options: loader options as ``(name, value)`` pairs (e.g. ``(("level", 1),)``).
        split: ``auto`` (the dataset's own split, else seeded random), ``random`` or ``homology``.
        split_note: how the split was made, in words, for the report.
        source: where the data comes from (dataset, citation), for the report.
        reported: published numbers on the same split (:class:`Reported`).
    """

    name: str
    loader: str
    data: str
    options: tuple[tuple[str, Any], ...] = ()
    test_data: str | None = None
    split: str = "auto"
    split_note: str = ""
    source: str = ""
    reported: tuple[Reported, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """An encoder and the head trained on its embeddings: one leaderboard row."""

    encoder: str
    head: str

    @property
    def name(self) -> str:
        return f"{self.encoder} + {self.head}"


_SAMPLE_NOTE = "the shipped sample's own split"
TASKS: dict[str, TaskSpec] = {t.name: t for t in [
    TaskSpec(name="solubility", loader="solubility", data="sample:solubility",
             split_note="seeded random split (70/10/20) of 400 DeepSol proteins; DeepSol's own test set is not shipped"),
    TaskSpec(name="localization", loader="localization", data="sample:deeploc",
             split_note="DeepLoc's own split: its test proteins are the test set, validation carved from the rest"),
    TaskSpec(name="membrane", loader="membrane", data="sample:deeploc",
             split_note="DeepLoc's own split: its test proteins are the test set, validation carved from the rest"),
    TaskSpec(name="enzyme", loader="enzyme", data="sample:enzyme", options=(("level", 1),),
             split_note="homology-aware: MMseqs2 clusters at 30% identity kept whole in one split "
                        "(made when the sample was built, shipped beside it)"),
    TaskSpec(name="gb1", loader="gb1", data="sample:gb1",
             split_note="FLIP's three_vs_rest split: train on variants with up to 3 mutations, test on the rest"),
    TaskSpec(name="secondary-structure", loader="secondary-structure", data="sample:secondary-structure",
             split_note=_SAMPLE_NOTE + " (FLIP)"),
]}

_STANDARD_NOTE = ("homology-aware: MMseqs2 clusters at 30% identity kept whole in one split "
                  "(made when the data was built, shipped as its split)")
#: The default suite: the same tasks on larger shipped subsets whose test sets hold about 1,000
#: proteins where the source allows (built by ``scripts/make_samples.py --standard``).
STANDARD_TASKS: dict[str, TaskSpec] = {t.name: t for t in [
    TaskSpec(name="solubility", loader="solubility", data="sample:standard-solubility",
             split_note=f"2,700 DeepSol proteins, {_STANDARD_NOTE}: 999 test; DeepSol's own test set is not shipped"),
    TaskSpec(name="localization", loader="localization", data="sample:standard-deeploc",
             split_note="DeepLoc's own split: 1,000 of its test proteins are the test set, the rest train/validation"),
    TaskSpec(name="membrane", loader="membrane", data="sample:standard-deeploc",
             split_note="DeepLoc's own split (proteins marked U left out): 637 test proteins, the sample's maximum"),
    TaskSpec(name="enzyme", loader="enzyme", data="sample:standard-enzyme", options=(("level", 1),),
             split_note=f"all 1,920 DeepFRI chains with sequences, {_STANDARD_NOTE}: 770 test (the source's maximum "
                        "with a useful training set)"),
    TaskSpec(name="gb1", loader="gb1", data="sample:standard-gb1",
             split_note="FLIP's three_vs_rest split: every training variant, 1,000 of the test variants"),
    TaskSpec(name="secondary-structure", loader="secondary-structure", data="sample:standard-secondary-structure",
             split_note="FLIP's sampled split: all 364 of its test proteins (the source's maximum), 900 training "
                        "and 100 validation proteins; per residue, 3 states (Q3)"),
]}
#: Suites by name: ``standard`` (the default), ``full`` (the standard suite's tasks and data with
#: the real UniRep-1900 among the encoders: hours on a CPU, see :data:`SUITE_ENCODERS`), ``quick``
#: (the small samples, for tests and demos).
SUITES: dict[str, dict[str, TaskSpec]] = {"standard": STANDARD_TASKS, "full": STANDARD_TASKS, "quick": TASKS}
DEFAULT_SUITE = "standard"
#: The tasks each suite runs unless ``--tasks`` says otherwise (the quick suite's secondary
#: structure is there on request).
SUITE_TASKS: dict[str, tuple[str, ...]] = {
    "standard": ("solubility", "localization", "membrane", "enzyme", "gb1", "secondary-structure"),
    "quick": ("solubility", "localization", "membrane", "enzyme", "gb1"),
}
SUITE_TASKS["full"] = SUITE_TASKS["standard"]
DEFAULT_TASKS: tuple[str, ...] = SUITE_TASKS[DEFAULT_SUITE]
#: The encoders each suite runs unless ``--encoders`` says otherwise. The standard suite's fit its
#: ~10-minute CPU budget (UniRep-256 adds about 5 CPU-minutes, the one-hot CNN about 10: name them
#: with ``--encoders``); the quick suite's small samples take every offline encoder. The full suite
#: adds UniRep-1900 to the standard suite's: its mLSTM embeds about 830 residues/s on one CPU core
#: (``docs/reports/embed_throughput_unirep1900.json``), so its 3.9 million distinct residues cost about 80 minutes
#: pooled, plus the secondary-structure task's per-residue states (335,000 residues: ~7 minutes, and
#: 2.5 GB as float32).
SUITE_ENCODERS: dict[str, tuple[str, ...]] = {
    "standard": ("composition", "unirep-64", "mlm:small"),
    "quick": ("composition", "onehot", "unirep-64", "unirep-256", "mlm:small"),
}
SUITE_ENCODERS["full"] = (*SUITE_ENCODERS["standard"], "unirep-1900")
DEFAULT_ENCODERS: tuple[str, ...] = SUITE_ENCODERS[DEFAULT_SUITE]
#: The head an encoder gets unless ``--heads`` says otherwise; any other encoder gets ``linear``
#: (a linear probe of its mean-pooled embedding). Mean-pooled one-hot *is* the composition, so
#: one-hot is read residue by residue by a small CNN.
DEFAULT_HEADS: dict[str, str] = {"onehot": "cnn"}
#: Heads that read per-residue states (the others read one pooled vector per protein).
RESIDUE_HEADS = frozenset(k for k, cls in HEADS.items() if cls.input == "residues")


def _default_models() -> tuple[ModelSpec, ...]:
    return tuple(ModelSpec(encoder=e, head=DEFAULT_HEADS.get(e, "linear")) for e in DEFAULT_ENCODERS)


def _default_heads() -> tuple[HeadConfig, ...]:
    return (HeadConfig(kind="linear"), HeadConfig(kind="mlp", hidden=64, dropout=0.3),
            HeadConfig(kind="cnn", channels=32, kernel=9, dropout=0.3, max_length=50_000),
            HeadConfig(kind="attention", hidden=64, max_length=50_000),
            HeadConfig(kind="per_residue", channels=32, kernel=9, max_length=50_000))


@dataclass(frozen=True, kw_only=True)
class BenchmarkConfig:
    """Every setting of a benchmark run (saved as ``benchmark.json``).

    Attributes:
        tasks, models: the grid; every model is trained and tested on every task.
        encoder_options: ``(encoder, option, value)`` triples passed to the encoder
            (``("esm2-8m", "weights", "~/models/esm2_t6_8M_UR50D")``).
        skip_unavailable: leave out encoders that cannot run here (missing weights or extra),
            with a note, instead of stopping -- the default suite does this.
        heads: the hyper-parameters of each head kind.
        pooled_training / residue_training: the training budget of heads on pooled vectors
            (cheap) and on per-residue states (convolutions over every residue). Every epoch
            runs (no early stopping: the samples' validation splits hold a few dozen proteins,
            too few to stop on) and the epoch best on validation is kept.
        class_weights: weight the loss against class imbalance. Off: the reference baseline
            is unweighted, and accuracy and Fmax reward the unweighted fit.
        pooling: how per-residue states become one vector for pooled heads.
        bootstrap: resamples for every 95% interval.
        map_task: the task whose proteins are drawn on each encoder's embedding map (coloured
            by label); ``map_method``: ``tsne``, ``umap`` or ``pca``; ``map_proteins``: at most this
            many of them (a seeded subsample).
    """

    tasks: tuple[TaskSpec, ...] = tuple(SUITES[DEFAULT_SUITE][t] for t in DEFAULT_TASKS)
    models: tuple[ModelSpec, ...] = field(default_factory=_default_models)
    encoder_options: tuple[tuple[str, str, str], ...] = ()
    skip_unavailable: bool = False
    heads: tuple[HeadConfig, ...] = field(default_factory=_default_heads)
    pooled_training: TrainConfig = field(default_factory=lambda: TrainConfig(
        max_epochs=100, patience=None, learning_rate=1e-2, batch_size=32))
    residue_training: TrainConfig = field(default_factory=lambda: TrainConfig(
        max_epochs=30, patience=None, learning_rate=1e-2, batch_size=32))
    class_weights: bool = False
    pooling: str = "mean"
    bootstrap: int = 200
    seed: int = 0
    map_task: str = "localization"
    map_method: str = "tsne"
    map_proteins: int = 1000

    def head_config(self, kind: str) -> HeadConfig:
        for head in self.heads:
            if head.kind == kind:
                return head
        return HeadConfig(kind=kind)

    def training(self, head: str) -> TrainConfig:
        train = self.residue_training if head in RESIDUE_HEADS else self.pooled_training
        return replace(train, seed=self.seed)

    def options_for(self, encoder: str) -> dict[str, str]:
        return {key: value for name, key, value in self.encoder_options if name == encoder}

    @property
    def encoders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.encoder for m in self.models))


def pick_tasks(names: Sequence[str], suite: str = "quick") -> tuple[TaskSpec, ...]:
    """The named tasks of a suite (:data:`SUITES`), in the given order; an unknown name is an error."""
    if suite not in SUITES:
        raise InputError(f"unknown suite {suite!r}; choose from {list(SUITES)}")
    tasks = SUITES[suite]
    unknown = [n for n in names if n not in tasks]
    if unknown:
        raise InputError(f"unknown benchmark task(s) {unknown} in the {suite} suite; choose from {list(tasks)}")
    if not names:
        raise InputError(f"no tasks given; choose from {list(tasks)}")
    return tuple(tasks[n] for n in dict.fromkeys(names))


def parse_heads(encoders: Sequence[str], items: Sequence[str] = ()) -> tuple[ModelSpec, ...]:
    """Models from encoder names and head items.

    An item is ``HEAD`` (for every encoder without an item of its own) or ``ENCODER=HEAD``; several
    items give an encoder several rows. Without items an encoder gets :data:`DEFAULT_HEADS`'s head.
    """
    general, own = [], {}
    for item in items:
        encoder, sep, head = item.rpartition("=")
        if head not in HEADS:
            raise InputError(f"unknown head {head!r} in {item!r}; heads: {list(HEADS)}")
        if not sep:
            general.append(head)
        elif encoder not in encoders:
            raise InputError(f"--heads names encoder {encoder!r}, which is not benchmarked ({list(encoders)})")
        else:
            own.setdefault(encoder, []).append(head)
    models = []
    for encoder in dict.fromkeys(encoders):
        heads = own.get(encoder) or general or [DEFAULT_HEADS.get(encoder, "linear")]
        models += [ModelSpec(encoder=encoder, head=h) for h in dict.fromkeys(heads)]
    return tuple(models)


def load_task_data(spec: TaskSpec) -> TaskData:
    """Read a task's records (shipped samples are ``sample:NAME``).

    A shipped sample's ``source`` names the sample and a digest of its records, not the folder
    this install keeps it in: a benchmark folder stays valid for another install of the same data.
    """
    from ..data import resolve_input

    data = load_task(spec.loader, resolve_input(spec.data), **dict(spec.options))
    if spec.test_data:
        data = combine(data, load_task(spec.loader, resolve_input(spec.test_data), **dict(spec.options)))
    if spec.data.startswith("sample:") and (spec.test_data or "sample:").startswith("sample:"):
        data = replace(data, source=f"{spec.data}{'+' + spec.test_data if spec.test_data else ''} "
                                    f"(records {_records_digest(data)[:16]})")
    return data


def _records_digest(data: TaskData) -> str:
    """SHA-256 over ids, sequences, labels, masks and splits: what a cell is trained and tested on."""
    h = hashlib.sha256()
    for part in (data.ids, data.sequences):
        h.update("\n".join(part).encode())
    for part in (data.labels, data.masks, data.splits):
        if part is None:
            continue
        for item in (part if isinstance(part, list) else [part]):
            h.update(np.asarray(item).astype(str).tobytes())
    return h.hexdigest()
