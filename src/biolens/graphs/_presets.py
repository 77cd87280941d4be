"""Named settings for ``biolens graph train --preset NAME`` (any setting can still be overridden).

Each preset is a :class:`GraphRunConfig` without the node count (filled in from the data).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import InputError
from ..core.train import TrainConfig
from ._model import GraphModelConfig
from ._train import LinkSettings

__all__ = ["PRESETS", "PRESET_NOTES", "GraphRunConfig", "preset"]


@dataclass(frozen=True, kw_only=True)
class GraphRunConfig:
    """Everything a run needs besides the data: model shape, optimiser, link settings."""

    model: GraphModelConfig
    train: TrainConfig
    link: LinkSettings = field(default_factory=LinkSettings)

    def __post_init__(self) -> None:
        if self.link.mask_targets and self.model.aggregation == "max":
            raise InputError("mask_targets works with mean or sum aggregation, not max")


def _config(model: dict[str, Any], train: dict[str, Any], link: dict[str, Any]) -> GraphRunConfig:
    base = {"monitor": "hits@20", "mode": "max", "schedule": "constant", "warmup": 0, "weight_decay": 0.0,
            "grad_clip": None, "checkpoint_every": None, "log_every": 5}
    return GraphRunConfig(model=GraphModelConfig(num_nodes=0, **model), train=TrainConfig(**{**base, **train}),
                          link=LinkSettings(**link))


# The model and schedule of the 2-CPU-core presets (default: squared-hinge AUC; bce; auc: the square AUC loss).
_CPU_MODEL = dict(embedding_dim=128, hidden=128, predictor_hidden=128, predictor_layers=2, dropout=0.3,
                  predictor_dropout=0.0)
_CPU_TRAIN = dict(learning_rate=0.01, schedule="cosine", min_lr_ratio=0.05, batch_size=65536, max_epochs=50,
                  patience=None)

#: (provenance and cost, settings) per preset
_TABLE: dict[str, tuple[str, GraphRunConfig]] = {
    "default": (
        "GraphSAGE 2x128 + 2-layer predictor, PLNLP's squared-hinge AUC loss with 3 global negatives "
        "per positive, 16k edges per step (65 steps per epoch), lr 0.01 cosine-decayed over 250 epochs, "
        "gradients clipped at global norm 1; ogbl-ddi on 2 CPU cores: ~16.5 s per epoch, 69 min wall and "
        "129 CPU-min in all, 0.9 GB; valid Hits@20 0.703 best (epoch 190) / 0.699 last, one seed (docs/reports/graphs_default_250.json)",
        _config(_CPU_MODEL, {**_CPU_TRAIN, "batch_size": 16384, "max_epochs": 250, "grad_clip": 1.0},
                dict(loss="hinge", num_neg=3)),
    ),
    "b16k150": (
        "the default before 2026-12-06 (night): 150 epochs, no gradient clipping; on one CPU core ~28 "
        "CPU-s per epoch, 72 CPU-min and 72 min wall in all; valid Hits@20 0.696 best (epoch 146) / "
        "0.688 last, one seed (docs/reports/graphs_steps_vs_width.json)",
        _config(_CPU_MODEL, {**_CPU_TRAIN, "batch_size": 16384, "max_epochs": 150}, dict(loss="hinge", num_neg=3)),
    ),
    "batch64k": (
        "the default before 2026-12-06 (evening): the b16k150 preset with 64k edges per step "
        "(16 steps per epoch) over 200 epochs; ~16 CPU-s per epoch, 56 CPU-min and 61 min wall on one "
        "core; valid Hits@20 0.675 best (epoch 179) / 0.668 last, one seed (docs/reports/graphs_presets.json)",
        _config(_CPU_MODEL, {**_CPU_TRAIN, "max_epochs": 200}, dict(loss="hinge", num_neg=3)),
    ),
    "short": (
        "the batch64k preset over 50 epochs (the default before 2026-12-06): ~15 CPU-min; valid "
        "Hits@20 0.551 best / 0.538 last for seed 0, 0.548 +- 0.009 / 0.542 +- 0.007 over seeds 0-2 "
        "(docs/reports/graphs_presets.json)",
        _config(_CPU_MODEL, _CPU_TRAIN, dict(loss="hinge", num_neg=3)),
    ),
    "bce": (
        "the default before issue 15: the same model with BCE, 1 negative per positive, 50 epochs "
        "(ogbl-ddi: ~12 CPU-s per epoch; valid Hits@20 0.48 +- 0.02 over 3 seeds, test 0.19 for one seed)",
        _config(_CPU_MODEL, _CPU_TRAIN, dict(loss="bce", num_neg=1)),
    ),
    "auc": (
        "the bce preset's model with PLNLP's pairwise AUC loss, 3 negatives per positive; "
        "35 epochs (its epochs cost ~1.5x BCE's: about the default preset's CPU time in all)",
        _config(_CPU_MODEL, {**_CPU_TRAIN, "max_epochs": 35}, dict(loss="auc", num_neg=3)),
    ),
    "hinge": (
        "the auc preset with PLNLP's squared-hinge AUC loss (HingeAUC, Wang et al. 2021, "
        "arXiv:2112.02936): pairs ranked past the margin cost nothing. 2 CPU cores: ~25 CPU-s per "
        "epoch, 35 epochs ~15 CPU-min; at 3 and 6 epochs its valid Hits@20 was 2.8x and 3.0x the "
        "square loss's (docs/reports/issue15.json)",
        _config(_CPU_MODEL, {**_CPU_TRAIN, "max_epochs": 35}, dict(loss="hinge", num_neg=3)),
    ),
    "ogb": (
        "OGB's ogbl-ddi GraphSAGE baseline: 2x256, 3-layer predictor, dropout 0.5, lr 0.005, BCE, 200 epochs",
        _config(dict(embedding_dim=256, hidden=256, predictor_hidden=256, predictor_layers=3, dropout=0.5,
                     predictor_dropout=0.5),
                dict(learning_rate=0.005, batch_size=65536, max_epochs=200, patience=None),
                dict(loss="bce", num_neg=1)),
    ),
    "plnlp": (
        "PLNLP's ogbl-ddi setting: 2x512 GraphSAGE, 2-layer predictor, AUC loss with 3 negatives, "
        "dropout 0.3, Adam lr 0.001, gradient clipping at 2, 500 epochs (GPU-sized)",
        _config(dict(embedding_dim=512, hidden=512, predictor_hidden=512, predictor_layers=2, dropout=0.3,
                     predictor_dropout=0.3),
                dict(learning_rate=0.001, optimizer="adam", grad_clip=2.0, batch_size=65536, max_epochs=500,
                     patience=None),
                dict(loss="auc", num_neg=3)),
    ),
    "tiny": (
        "a few seconds on the shipped sample: 2x32, 2-layer predictor, 30 epochs",
        _config(dict(embedding_dim=32, hidden=32, predictor_hidden=32, predictor_layers=2, dropout=0.1,
                     predictor_dropout=0.0),
                dict(learning_rate=0.01, batch_size=1024, max_epochs=30, patience=None),
                dict(loss="bce", num_neg=1)),
    ),
}
#: The presets by name, as every domain has them (``dna.PRESETS``, ``structure.PRESETS``).
PRESETS: dict[str, GraphRunConfig] = {name: config for name, (_, config) in _TABLE.items()}
#: Each preset's provenance (paper, setting) and measured cost: what ``biolens graph presets`` prints.
PRESET_NOTES: dict[str, str] = {name: note for name, (note, _) in _TABLE.items()}


def preset(name: str, *, model: dict[str, Any] | None = None, train: dict[str, Any] | None = None,
           link: dict[str, Any] | None = None) -> GraphRunConfig:
    """A preset with some settings replaced (``None`` values are ignored)."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    base = PRESETS[name]

    def merge(obj, changes):
        changes = {k: v for k, v in (changes or {}).items() if v is not None}
        return dataclasses.replace(obj, **changes) if changes else obj

    return GraphRunConfig(model=merge(base.model, model), train=merge(base.train, train), link=merge(base.link, link))
