"""A protein run's settings (:class:`RunConfig`, saved in ``config.json``) and how to read them back.

Its own module so that the model builder (:mod:`.model_io`) and the run driver (:mod:`.run`) both
import it from below instead of from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.config import config_from_dict
from ...core.errors import InputError
from ...core.files import read_json
from ...core.train import TrainConfig
from ..encoders._finetune import LoRAConfig
from ._heads import HeadConfig
from ._splits import SplitConfig

__all__ = ["ENCODER_LR_RATIO", "RunConfig", "load_run_config"]


#: The fine-tuned encoder's learning rate relative to the head's when ``encoder_lr`` is not given:
#: pretrained weights move less than a fresh head (a lower rate for the pretrained body).
ENCODER_LR_RATIO = 0.1


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything a run needs beyond the data, the encoder name and the head (saved in config.json).

    ``finetune`` back-propagates into a differentiable encoder (``finetune_last`` layers, all when
    ``None``). Binary tasks: ``calibration`` (``platt``/``temperature``/``none``) maps the
    model's probabilities with a fit on the validation split, and ``threshold_rule``
    (``balanced_accuracy``/``mcc``/``fixed`` = 0.5) chooses the decision threshold on the calibrated
    validation probabilities (:mod:`biolens.core.calibration`); both are saved with the run and used by
    prediction. ``binary_weighting``: the positive class's loss weight with ``class_weights``,
    ``sqrt`` (``sqrt(neg/pos)``) or ``balanced`` (``neg/pos``). ``too_long`` (``error``/``skip``) handles proteins longer than a residue head's
    ``max_length``. ``size_curve`` lists training fractions for the metric-vs-training-size figure
    (each one an extra fit; empty to skip). ``encoder_lr``: the fine-tuned encoder's (or LoRA
    adapters') peak learning rate (the head keeps ``train.learning_rate``; ``None``: a tenth of it,
    :data:`ENCODER_LR_RATIO`).
    ``finetune_method``: ``full`` (the encoder's weights train, all or the last ``finetune_last``
    layers) or ``lora`` (low-rank adapters ``lora`` on every layer train, the weights stay frozen).
    ``finetune_tokens``: padded tokens per fine-tuning batch (rows = ``finetune_tokens // length``,
    at most ``train.batch_size``): it bounds the memory a step needs. ``finetune_crop``: per-protein
    tasks fine-tune on windows of at most this many residues (a longer protein gets a window drawn
    afresh each epoch; ``None``: whole proteins), so a step's attention cost and the number of
    its training batches share one shape (``rows x`` the longest window: one compile of the training
    step); prediction always sees whole proteins. The default, 256, is about the windows
    ``biolens pretrain`` trains ``mlm:RUN`` models on (``--crop 254``); raise it for ESM2 (1,022).
    ``finetune_head_epochs``: LP-FT (Kumar et al. 2022) -- train the head alone on the frozen encoder
    for this many epochs (its own warm-up and decay, no early stopping), then fine-tune both.
    """

    pooling: str = "mean"
    head: HeadConfig = field(default_factory=HeadConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_epochs=100, patience=10, learning_rate=3e-3,
                                                                   batch_size=32))
    split: SplitConfig = field(default_factory=SplitConfig)
    class_weights: bool = True
    finetune: bool = False
    finetune_last: int | None = None
    encoder_lr: float | None = None
    finetune_method: str = "full"
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    finetune_tokens: int = 8192
    finetune_crop: int | None = 256
    finetune_head_epochs: int = 0
    binary_weighting: str = "sqrt"
    calibration: str = "platt"
    threshold_rule: str = "balanced_accuracy"
    too_long: str = "error"
    bootstrap: int = 200
    baselines: bool = True
    size_curve: tuple[float, ...] = (0.2, 0.5)
    token_budget: int = 1 << 15


def load_run_config(meta: dict[str, Any], run_dir: str | Path) -> RunConfig:
    """The RunConfig a checkpoint was trained with: its ``meta.json`` is the one place that says it.

    ``config.json`` must agree (an edited one is refused, naming the fields); checkpoints from before
    the run contract kept the settings only in ``config.json``.
    """
    from ...core.errors import CheckpointMismatchError
    from ...core.runs import identity_diff

    path = Path(run_dir) / "config.json"
    saved = read_json(path, mapping=True) if path.exists() else {}
    recorded = saved.get("settings", {}).get("run") if "settings" in saved else saved.get("run")
    if "run" not in meta:
        if recorded is None:
            raise InputError("no run settings in checkpoint/meta.json or config.json", source=str(run_dir))
        return config_from_dict(RunConfig, recorded)
    if recorded is not None and (diff := identity_diff(meta["run"], recorded)):
        raise CheckpointMismatchError(
            f"{run_dir}: config.json disagrees with the checkpoint it describes (checkpoint → config.json): "
            + "; ".join(diff) + ". The checkpoint's meta.json says what the model was trained with; restore "
            "config.json or retrain")
    return config_from_dict(RunConfig, meta["run"])
