"""One training loop for every domain: optax, warm-up + cosine schedule, gradient clipping,
early stopping on a validation metric with best-model restore, an optional exponential moving
average (EMA) of the weights, a metrics log, a progress bar, and resumable runs (a killed run
continues from its last checkpoint and ends in the same state).

The loop knows nothing about proteins, DNA or graphs. A domain supplies:

* ``model`` (an ``eqx.Module``) and optional ``state`` (``eqx.nn.State``, e.g. batch norm);
* ``loss_fn(model, state, batch, key) -> (loss, state)`` (``state`` may be ``None``);
* ``train``: :class:`Batches` -- ``len()`` batches per epoch, ``epoch(i)`` yields them,
  deterministically for a given ``i`` (so a resumed run sees the same data);
* ``evaluate(model, state) -> dict`` of validation metrics (called with the model in
  inference mode), containing ``config.monitor``.
"""

from __future__ import annotations

import inspect
import json
import math
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .batching import pad_apply
from .config import config_to_dict
from .errors import InputError, TrainingError
from .files import atomic_write, atomic_write_text, os_words
from .progress import progress_bar

__all__ = ["ArrayBatches", "Batches", "FitResult", "TrainConfig", "batched_apply", "fit", "make_optimizer"]

STATE_FILE = "state.eqx"
STATE_MAGIC = b"biolens-train-state 1\n"
LEGACY_STATE = ("train_state.eqx", "train_state.json")
LOG_FILE = "metrics.jsonl"


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Optimisation settings (saved beside every run).

    ``warmup`` is a fraction of the total steps when < 1, else a number of steps.
    ``eval_every`` is in steps; ``None`` evaluates once per epoch. ``patience`` counts
    evaluations without improvement of ``monitor`` (``mode`` min or max); ``None`` never stops early.
    ``extend_from``: the run was planned for that many steps and is continued past them (to
    ``max_steps``): the planned schedule up to ``extend_from``, then its final learning rate,
    constant; :func:`fit` continues a finished run found in ``run_dir`` from its last state.
    ``ema``: ``None`` (off) or a decay ``d`` in (0, 1): after every step the trainable weights'
    average is updated as ``avg = d_t * avg + (1 - d_t) * weights`` with ``d_t = min(d, (1 + t) /
    (10 + t))`` at step ``t`` (0-based; so the start is not held at the initial weights, as
    TensorFlow's ``num_updates``); evaluation, best-model selection and the returned model use the
    averaged weights; the average is saved and resumed with the training state.
    """

    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    schedule: str = "cosine"
    warmup: float | int = 0.05
    min_lr_ratio: float = 0.0
    grad_clip: float | None = 1.0
    batch_size: int = 64
    max_epochs: int = 30
    max_steps: int | None = None
    eval_every: int | None = None
    patience: int | None = 5
    monitor: str = "loss"
    mode: str = "min"
    log_every: int = 10
    checkpoint_every: int | None = 200
    seed: int = 0
    extend_from: int | None = None
    ema: float | None = None

    def __post_init__(self) -> None:
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise TrainingError(f"ema must be None or a decay in (0, 1), got {self.ema}")


@runtime_checkable
class Batches(Protocol):
    def __len__(self) -> int: ...

    def epoch(self, index: int) -> Iterable[Any]: ...


class ArrayBatches:
    """Mini-batches of a dict of arrays sharing their first axis, shuffled per epoch with a
    generator seeded by ``(seed, epoch)``. The last partial batch is dropped when there is more
    than one batch (every item is still seen across epochs)."""

    def __init__(self, arrays: dict[str, np.ndarray], batch_size: int, *, shuffle: bool = True, seed: int = 0) -> None:
        sizes = {k: len(v) for k, v in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"arrays differ in length: {sizes}")
        self.arrays, self.shuffle, self.seed = arrays, shuffle, seed
        self.n = next(iter(sizes.values()))
        if self.n == 0:
            raise TrainingError("no training examples")
        self.batch_size = min(batch_size, self.n)

    def __len__(self) -> int:
        return self.n // self.batch_size

    def epoch(self, index: int) -> Iterator[dict[str, np.ndarray]]:
        order = np.random.default_rng((self.seed, index)).permutation(self.n) if self.shuffle else np.arange(self.n)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield {k: v[idx] for k, v in self.arrays.items()}


@dataclass
class FitResult:
    """The outcome of :func:`fit`: the best model (or the last, without validation) and its log."""

    model: Any
    state: Any
    history: list[dict[str, Any]]
    best_step: int | None
    best_metrics: dict[str, float] | None
    steps: int
    stopped_early: bool
    seconds: float
    resumed_from: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def make_optimizer(config: TrainConfig, total_steps: int) -> optax.GradientTransformation:
    """Gradient clipping + Adam(W)/SGD with linear warm-up and cosine decay (or constant); past
    ``config.extend_from`` steps, the schedule's last learning rate."""
    lr = _schedule(config, config.extend_from or total_steps)
    if config.extend_from:
        final = config.learning_rate * (config.min_lr_ratio if config.schedule == "cosine" else 1.0)
        lr = optax.join_schedules([lr, optax.constant_schedule(final)], [config.extend_from])
    return _optimizer(config, lr)


def _schedule(config: TrainConfig, total_steps: int) -> optax.Schedule:
    warmup = int(config.warmup * total_steps) if config.warmup < 1 else int(config.warmup)
    warmup = min(warmup, max(total_steps - 1, 0))
    if config.schedule == "cosine":
        lr = optax.warmup_cosine_decay_schedule(
            0.0, config.learning_rate, warmup, max(total_steps, warmup + 1), config.learning_rate * config.min_lr_ratio
        )
    elif config.schedule == "constant":
        lr = optax.join_schedules([optax.linear_schedule(0.0, config.learning_rate, max(warmup, 1)),
                                   optax.constant_schedule(config.learning_rate)], [warmup])
    else:
        raise TrainingError(f"unknown schedule {config.schedule!r}; use cosine or constant")
    return lr


def _optimizer(config: TrainConfig, lr: optax.Schedule) -> optax.GradientTransformation:
    if config.optimizer == "adamw":
        opt = optax.adamw(lr, weight_decay=config.weight_decay)
    elif config.optimizer == "adam":
        opt = optax.adam(lr)
    elif config.optimizer == "sgd":
        opt = optax.sgd(lr, momentum=0.9)
    else:
        raise TrainingError(f"unknown optimizer {config.optimizer!r}; use adamw, adam or sgd")
    return optax.chain(optax.clip_by_global_norm(config.grad_clip), opt) if config.grad_clip else opt


def ema_decay(decay: float, step: jax.Array | int) -> jax.Array:
    """The decay used after 0-based step ``step``: ``min(decay, (1 + step) / (10 + step))``."""
    step = jnp.asarray(step, jnp.float32)
    return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def _make_step(loss_fn: Callable, optimizer: optax.GradientTransformation, trainable: Any,
               rescale: Callable[[Any], Any] | None = None, ema: float | None = None) -> Callable:
    """``step(model, state, opt_state, avg, t, batch, key)``; ``avg`` (the trainable part's moving
    average, ``None`` without EMA) is updated with the new weights after the 0-based step ``t``."""

    @eqx.filter_jit
    def step(model, state, opt_state, avg, t, batch, key):
        diff, static = eqx.partition(model, trainable)

        def inner(diff, state):
            return loss_fn(eqx.combine(diff, static), state, batch, key)

        (loss, state), grads = eqx.filter_value_and_grad(inner, has_aux=True)(diff, state)
        updates, opt_state = optimizer.update(grads, opt_state, diff)
        if rescale is not None:  # e.g. a smaller learning rate for a fine-tuned encoder than for the head
            updates = rescale(updates)
        diff = eqx.apply_updates(diff, updates)
        if ema is not None:
            d = ema_decay(ema, t)
            avg = jax.tree_util.tree_map(lambda a, w: d * a + (1.0 - d) * w if eqx.is_inexact_array(w) else w,
                                         avg, diff)
        return eqx.combine(diff, static), state, opt_state, avg, loss

    return step


# The settings make_optimizer reads: runs that agree on them (and on the loss function, the trainable
# filter, the EMA and the step count) share one compiled training step, whatever their seeds or data.
_OPTIMIZER_FIELDS = ("learning_rate", "weight_decay", "optimizer", "schedule", "warmup", "min_lr_ratio",
                     "grad_clip", "extend_from")
_SHARED_STEPS: OrderedDict[Any, tuple[optax.GradientTransformation, Callable]] = OrderedDict()
_SHARED_STEPS_MAX = 8


def _filter_key(trainable: Any) -> Any:
    """A hashable value that is equal for equal trainable filters (a function, or a tree whose leaves
    are bools and functions); ``None`` for a filter that has none (e.g. arrays among its leaves)."""
    if inspect.isfunction(trainable):
        return trainable
    leaves, treedef = jax.tree_util.tree_flatten(trainable)
    if not all(isinstance(leaf, bool) or inspect.isfunction(leaf) for leaf in leaves):
        return None
    return treedef, tuple(leaves)


def _optimizer_and_step(loss_fn: Callable, config: TrainConfig, total: int, trainable: Any,
                        rescale: Callable[[Any], Any] | None) -> tuple[optax.GradientTransformation, Callable]:
    """The optimizer and the jitted step of a run. A step compiles once per process (and shape) for a
    given loss function (the same object: a module-level function, or one from a cached factory),
    optimizer settings, step count, trainable filter and EMA: seed ensembles, ``--seeds N``,
    benchmark seeds, reruns and resumes in one process do not compile again. Runs with an update
    rescaling build their own."""
    key = _step_key(loss_fn, config, total, trainable) if rescale is None else None
    if key is not None and key in _SHARED_STEPS:
        _SHARED_STEPS.move_to_end(key)
        return _SHARED_STEPS[key]
    optimizer = make_optimizer(config, total)
    built = optimizer, _make_step(loss_fn, optimizer, trainable, rescale, config.ema)
    if key is not None:
        _SHARED_STEPS[key] = built
        while len(_SHARED_STEPS) > _SHARED_STEPS_MAX:
            _SHARED_STEPS.popitem(last=False)
    return built


def _step_key(loss_fn: Callable, config: TrainConfig, total: int, trainable: Any) -> tuple | None:
    """What a shared step is looked up by (``None``: the run builds its own)."""
    filter_key = _filter_key(trainable)
    if filter_key is None:
        return None
    key = (loss_fn, tuple(getattr(config, f) for f in _OPTIMIZER_FIELDS), total, filter_key, config.ema)
    try:
        hash(key)
    except TypeError:  # an unhashable loss function or filter
        return None
    return key


def _averaged(model: Any, avg: Any, trainable: Any) -> Any:
    """``model`` with its trainable weights replaced by their moving average ``avg``."""
    if avg is None:
        return model
    return eqx.combine(avg, eqx.partition(model, trainable)[1])


class _Tracker:
    """Early stopping bookkeeping: the best value of the monitored metric and when it happened."""

    def __init__(self, mode: str, patience: int | None) -> None:
        if mode not in ("min", "max"):
            raise TrainingError(f"mode must be 'min' or 'max', got {mode!r}")
        self.mode, self.patience = mode, patience
        self.best: float | None = None
        self.best_step: int | None = None
        self.best_metrics: dict[str, float] | None = None
        self.bad = 0

    def update(self, value: float, step: int, metrics: dict[str, float]) -> bool:
        """Record an evaluation; True when it is the best so far."""
        better = self.best is None or (
            not math.isnan(value) and (value < self.best if self.mode == "min" else value > self.best)
        )
        if better:
            self.best, self.best_step, self.best_metrics, self.bad = value, step, metrics, 0
        else:
            self.bad += 1
        return better

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad >= self.patience

    def to_json(self) -> dict[str, Any]:
        return {"best": self.best, "best_step": self.best_step, "best_metrics": self.best_metrics, "bad": self.bad}

    def load(self, data: dict[str, Any]) -> None:
        self.best, self.best_step, self.best_metrics, self.bad = data["best"], data["best_step"], data["best_metrics"], data["bad"]


@dataclass
class _Progress:
    step: int = 0
    epoch: int = 0
    batch: int = 0  # batches of `epoch` already consumed
    last_eval: int = -1
    stopped: bool = False  # early stopping fired
    done: bool = False  # the run finished; resuming it returns the result


class _RunFiles:
    """The resumable state of a run folder: ONE file, ``state.eqx``, holding a JSON header (step,
    epoch, early-stopping tracker, settings, log length, pending losses) and then every array leaf
    (model, state, optimizer state, best model), written to a temporary sibling and renamed over
    the old one. A kill at any point leaves the previous state or the new one, never a mix."""

    def __init__(self, run_dir: Path | None) -> None:
        self.dir = run_dir
        self.rows = 0  # rows in metrics.jsonl (a resumed log is cut back to the saved count)
        if run_dir is not None:
            run_dir.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        return self.dir / STATE_FILE

    def exists(self) -> bool:
        if self.dir is None:
            return False
        if not self.path.exists() and any((self.dir / old).exists() for old in LEGACY_STATE):
            raise TrainingError(f"{self.dir} holds a training state from an older biolens ({' + '.join(LEGACY_STATE)}, "
                                "saved in two steps, which a kill can leave out of step): it cannot be resumed safely. "
                                "Delete that folder or use a new --out folder")
        return self.path.exists()

    def save(self, arrays: tuple, progress: _Progress, tracker: _Tracker, config: TrainConfig,
             pending: list[float]) -> None:
        if self.dir is None:
            return
        header = json.dumps({"progress": progress.__dict__, "tracker": tracker.to_json(), "config": config_to_dict(config),
                             "log_rows": self.rows, "pending_losses": pending}, default=float).encode()

        def write(fh: IO[bytes]) -> None:
            fh.write(STATE_MAGIC + struct.pack("<Q", len(header)) + header)
            eqx.tree_serialise_leaves(fh, arrays)

        atomic_write(self.path, write)

    def load(self, like: tuple, config: TrainConfig) -> tuple[tuple, _Progress, dict[str, Any], list[float]]:
        with self.path.open("rb") as fh:
            if fh.read(len(STATE_MAGIC)) != STATE_MAGIC:
                raise TrainingError(f"{self.path}: not a biolens training state; delete it or use a new --out folder")
            (size,) = struct.unpack("<Q", fh.read(8))
            meta = json.loads(fh.read(size))
            saved = {k: v for k, v in meta["config"].items()
                     if k not in ("patience", "max_epochs", "max_steps", "extend_from")}
            now = {k: v for k, v in config_to_dict(config).items() if k in saved}
            if config.ema is not None and "ema" not in saved:  # a state from before EMA existed has no average
                now["ema"] = config.ema
            if saved != now:
                diff = sorted(k for k in now if now[k] != saved.get(k))
                raise TrainingError(f"{self.dir}: cannot resume: the settings {diff} differ from the saved run; "
                                    "use a new --out folder or the same settings")
            arrays = eqx.tree_deserialise_leaves(fh, like)
        self.truncate_log(meta["log_rows"])
        return arrays, _Progress(**meta["progress"]), meta["tracker"], meta["pending_losses"]

    def log(self, row: dict[str, Any]) -> None:
        """Append one row to ``metrics.jsonl`` (a failed append, say on a full disk, may leave half a
        line: the next run cuts the log back to the saved state's rows before reading it)."""
        if self.dir is not None:
            path = self.dir / LOG_FILE
            try:
                with path.open("a") as fh:
                    fh.write(json.dumps(row, default=float) + "\n")
            except OSError as exc:
                raise InputError(f"cannot write the training log ({os_words(exc)}); rerunning resumes from the "
                                 "last saved state", source=str(path)) from None
            self.rows += 1

    def truncate_log(self, rows: int) -> None:
        """Cut ``metrics.jsonl`` back to the rows written before the saved state (rows appended after
        it, a torn last one included, are dropped unread)."""
        kept = self.history(rows)
        atomic_write_text(self.dir / LOG_FILE, "".join(json.dumps(r, default=float) + "\n" for r in kept))
        self.rows = len(kept)

    def history(self, rows: int | None = None) -> list[dict[str, Any]]:
        """The log's rows (the first ``rows`` of them)."""
        if self.dir is None or not (self.dir / LOG_FILE).exists():
            return []
        lines = [line for line in (self.dir / LOG_FILE).read_text().splitlines() if line.strip()]
        return [json.loads(line) for line in lines[:rows]]


def fit(
    model: Any,
    loss_fn: Callable[[Any, Any, Any, jax.Array], tuple[jax.Array, Any]],
    train: Batches,
    config: TrainConfig,
    *,
    state: Any = None,
    evaluate: Callable[[Any, Any], dict[str, float]] | None = None,
    run_dir: str | Path | None = None,
    resume: bool = True,
    trainable: Any = eqx.is_inexact_array,
    progress: bool = False,
    description: str = "training",
    rescale_updates: Callable[[Any], Any] | None = None,
) -> FitResult:
    """Train ``model``; see the module docstring for the pieces a domain supplies.

    ``trainable`` is an Equinox filter (a callable on leaves, or a pytree of bools) choosing the
    parameters to update -- e.g. only the last k layers when fine-tuning. With ``run_dir``, the
    loop writes ``metrics.jsonl`` and a resumable state (one file, ``state.eqx``: weights, optimizer
    state, best model, step and early-stopping counters, replaced by one rename) after every
    evaluation and every ``checkpoint_every`` steps; with ``resume`` it continues a run found there,
    ending bit-identical to an uninterrupted run wherever it was killed.
    ``rescale_updates`` maps the optimizer's updates (the trainable part of the model) before they
    are applied: scaling a part by ``r`` gives it ``r`` times the learning rate.
    With ``config.ema``, evaluations, the best model and the returned model use the moving average
    of the weights (the trained weights go on from their own values).
    """
    total = len(train) * config.max_epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    if total <= 0:
        raise TrainingError("nothing to train on: zero steps (empty training split?)")
    optimizer, step_fn = _optimizer_and_step(loss_fn, config, total, trainable, rescale_updates)
    opt_state = optimizer.init(eqx.filter(eqx.filter(model, trainable), eqx.is_inexact_array))
    files = _RunFiles(Path(run_dir) if run_dir is not None else None)
    tracker = _Tracker(config.mode, config.patience)
    avg = eqx.partition(model, trainable)[0] if config.ema is not None else None
    prog, best, resumed_from, pending = _Progress(), (model, state), None, []
    if resume and files.exists():
        like = (model, state, opt_state, model, state) + ((avg,) if avg is not None else ())
        (model, state, opt_state, *best), prog, tracked, pending = files.load(like, config)
        if avg is not None:
            *best, avg = best
        tracker.load(tracked)
        best, resumed_from = tuple(best), prog.step
        if config.extend_from is not None and prog.done and not prog.stopped and prog.step < total:
            prog.done = False  # a finished run continued past its planned end
    elif files.dir is not None:
        (files.dir / LOG_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    loop = _Loop(step_fn, evaluate, config, files, tracker, total, trainable, avg)
    loop.losses = [jnp.asarray(x, jnp.float32) for x in pending]
    with progress_bar(total, description, enabled=progress) as advance:
        advance(prog.step)
        model, state, opt_state, best = loop.run(model, state, opt_state, best, train, prog, advance)
    if evaluate is not None and tracker.best_step is not None:
        model, state = best
    else:
        model = _averaged(model, loop.avg, trainable)
    return FitResult(
        model=model, state=state, history=files.history() if files.dir else loop.rows,
        best_step=tracker.best_step, best_metrics=tracker.best_metrics, steps=prog.step,
        stopped_early=prog.stopped, seconds=time.perf_counter() - start,
        resumed_from=resumed_from,
    )


class _Loop:
    """The epoch/step loop of :func:`fit` (kept separate so each piece stays small)."""

    def __init__(self, step_fn, evaluate, config: TrainConfig, files: _RunFiles, tracker: _Tracker, total: int,
                 trainable: Any, avg: Any) -> None:
        self.step_fn, self.evaluate, self.config = step_fn, evaluate, config
        self.files, self.tracker, self.total, self.trainable = files, tracker, total, trainable
        self.avg = avg  # the moving average of the trainable weights (config.ema), else None
        self.key = jax.random.PRNGKey(config.seed)
        self.rows: list[dict[str, Any]] = []
        self.losses: list[jax.Array] = []
        self.last_eval: dict[str, float] = {}

    def _log(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.files.log(row)

    def _flush_loss(self, prog: _Progress) -> float | None:
        if not self.losses:
            return None
        loss = float(jnp.mean(jnp.stack(self.losses)))
        self.losses = []
        if not math.isfinite(loss):
            raise TrainingError(f"the training loss became {loss} at step {prog.step}; try a lower learning rate")
        self._log({"step": prog.step, "epoch": prog.epoch, "split": "train", "loss": loss})
        return loss

    def _eval(self, model, state, best, prog: _Progress):
        if self.evaluate is None:
            return best
        model = _averaged(model, self.avg, self.trainable)
        metrics = {k: float(v) for k, v in self.evaluate(eqx.nn.inference_mode(model), state).items()}
        if self.config.monitor not in metrics:
            raise TrainingError(f"evaluate() returned {sorted(metrics)}, without the monitored {self.config.monitor!r}")
        self._log({"step": prog.step, "epoch": prog.epoch, "split": "val", **metrics})
        self.last_eval, prog.last_eval = metrics, prog.step
        if self.tracker.update(metrics[self.config.monitor], prog.step, metrics):
            best = (model, state)
        prog.stopped = self.tracker.should_stop
        return best

    def _step(self, model, state, opt_state, batch, prog: _Progress, advance):
        key = jax.random.fold_in(self.key, prog.step)
        model, state, opt_state, self.avg, loss = self.step_fn(model, state, opt_state, self.avg,
                                                               jnp.asarray(prog.step, jnp.int32), batch, key)
        self.losses.append(loss)
        prog.step += 1
        prog.batch += 1
        shown = self._flush_loss(prog) if prog.step % self.config.log_every == 0 else None
        fields = {"loss": shown} if shown is not None else {}
        if self.config.monitor in self.last_eval:
            fields[self.config.monitor] = self.last_eval[self.config.monitor]
        advance(1, **fields)
        return model, state, opt_state

    def run(self, model, state, opt_state, best, train: Batches, prog: _Progress, advance):
        cfg = self.config
        def save() -> None:
            pending = [float(x) for x in self.losses]  # the losses of a log row not yet written
            extra = (self.avg,) if self.avg is not None else ()
            self.files.save((model, state, opt_state, *best, *extra), prog, self.tracker, cfg, pending)

        while not (prog.done or prog.stopped) and prog.step < self.total:
            for batch in _skip(train.epoch(prog.epoch), prog.batch):
                model, state, opt_state = self._step(model, state, opt_state, batch, prog, advance)
                due_eval = cfg.eval_every is not None and prog.step % cfg.eval_every == 0
                if due_eval:
                    best = self._eval(model, state, best, prog)
                if due_eval or (cfg.checkpoint_every and prog.step % cfg.checkpoint_every == 0):
                    save()
                if prog.stopped or prog.step >= self.total:
                    break
            else:  # the epoch ran to its end
                self._flush_loss(prog)
                prog.epoch, prog.batch = prog.epoch + 1, 0
                if cfg.eval_every is None:
                    best = self._eval(model, state, best, prog)
                save()
        if not prog.done:
            self._flush_loss(prog)
            if prog.last_eval != prog.step and not prog.stopped:
                best = self._eval(model, state, best, prog)
            prog.done = True
            save()
        return model, state, opt_state, best


def _skip(batches: Iterable[Any], n: int) -> Iterator[Any]:
    for i, batch in enumerate(batches):
        if i >= n:
            yield batch


def batched_apply(fn: Callable[[Any], Any], arrays: dict[str, np.ndarray], batch_size: int = 256) -> Any:
    """Apply a (jitted) ``fn(batch)`` over a dict of arrays in fixed-size batches (the last one is
    padded, so there is one compiled shape) and concatenate the outputs along the first axis."""
    if len(next(iter(arrays.values()))) == 0:
        raise TrainingError("nothing to predict: zero examples")
    return pad_apply(fn, arrays, batch_size=batch_size)
