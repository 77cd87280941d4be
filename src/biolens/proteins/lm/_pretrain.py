"""Pretraining a small masked protein language model: :func:`pretrain`.

The model is biolens' :class:`~biolens.proteins.encoders.esm2.ESM2` (the ESM2 architecture, of a
size chosen by :data:`PRESETS` or by hand), trained with ESM's objective (Devlin et al. 2019;
Rives et al. 2021): 15% of the residues of every sequence are chosen, of those 80% become
``<mask>``, 10% a random amino acid and 10% stay; the loss is the cross-entropy of the original
residue at the chosen positions. Masking is drawn in JAX from the training step's key, so a
resumed run masks exactly as an uninterrupted one.

Batches hold about ``token_budget`` padded tokens, sequences grouped by length (a few shapes,
so a few compiles); proteins longer than ``crop`` residues are cut to a window drawn afresh each
epoch. Optimisation is :func:`biolens.core.train.fit`: AdamW, linear warm-up and cosine decay,
gradient clipping, validation on held-out sequences every ``eval_every`` steps, resumable.

A run folder (``RUN``, the :class:`~biolens.core.runs.RunFolder` contract)::

    config.json      the settings and the corpus' identity (content digest of the deduplicated corpus)
    train/           the loop's resumable state and metrics.jsonl
    checkpoint/      the model in the Hugging Face ESM2 layout (config.json, model.safetensors, tokenizer
                     files): ``mlm:RUN`` and ``esm2:RUN/checkpoint`` load it, so does ``transformers``
    result.json      :class:`PretrainResult`: steps, held-out metrics, parameters, timings (was pretrain.json)
    report.html      loss, perplexity and masked-residue accuracy against step (also as curves.png)
    valid.fasta      the held-out sequences

(Before the run contract the model lay at the top of ``RUN`` beside ``settings.json`` and
``pretrain.json``; ``mlm:RUN`` still loads such a folder, it is not resumed.)
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ...core.config import config_defaults, config_to_dict
from ...core.errors import InputError, RunMismatchError
from ...core.files import atomic_write_text
from ...core.runs import IN_MEMORY, RunFolder, RunResult, content_digest, identity_diff
from ...core.train import TrainConfig, fit
from ..encoders.esm2._io import CLS, EOS, ESM_TOKENS, MASK, PAD, save_esm2, tokenize
from ..encoders.esm2._model import ESM2, ESM2Config
from ..supervised._predictor import ResidueBatches

__all__ = ["PRESETS", "PretrainConfig", "PretrainResult", "evaluate_mlm", "mask_tokens", "masked_lm_loss",
           "model_config", "pretrain", "split_corpus"]

#: Model sizes: (layers, hidden size, heads, feed-forward size). ``base`` is ESM2-8M's shape.
PRESETS: dict[str, tuple[int, int, int, int]] = {
    "tiny": (2, 64, 4, 256),
    "small": (4, 128, 8, 512),
    "base": (6, 320, 20, 1280),
}
#: Token ids of the 20 standard amino acids (random replacements are drawn from these).
AMINO_IDS = np.array([ESM_TOKENS.index(a) for a in "ACDEFGHIKLMNPQRSTVWY"], dtype=np.int32)


@dataclass(frozen=True, kw_only=True)
class PretrainConfig:
    """Settings of a pretraining run (saved in ``config.json``).

    ``layers``/``hidden``/``heads``/``ffn`` override the ``preset``'s. ``crop``: the longest
    window of a protein one step sees. ``token_budget``: padded tokens per batch.
    ``valid_fraction`` of the deduplicated corpus (at most ``valid_max`` sequences) is held out.
    """

    preset: str = "small"
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    ffn: int | None = None
    steps: int = 2000
    learning_rate: float = 2e-3
    warmup: float = 0.05
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    token_budget: int = 8192
    crop: int = 254
    mask_rate: float = 0.15
    valid_fraction: float = 0.05
    valid_max: int = 500
    eval_every: int = 250
    checkpoint_every: int = 50
    log_every: int = 10
    seed: int = 0


def check_config(config: PretrainConfig, distinct: int) -> None:
    """Refuse settings that cannot train (``lr <= 0`` is gradient ascent), naming the option, and
    a corpus of ``distinct`` sequences too small for the validation split it asks for."""
    ranges = [("--lr", config.learning_rate, 0, None), ("--steps", config.steps, 1, None),
              ("--crop", config.crop, 1, None), ("--token-budget", config.token_budget, 1, None),
              ("--eval-every", config.eval_every, 1, None), ("--valid-fraction", config.valid_fraction, 0, 1),
              ("mask_rate", config.mask_rate, 0, 1), ("warmup", config.warmup, 0, 1),
              ("min_lr_ratio", config.min_lr_ratio, 0, 1), ("weight_decay", config.weight_decay, 0, None),
              ("grad_clip", config.grad_clip, 0, None)]
    ranges += [(f"--{k}", getattr(config, k), 1, None) for k in ("layers", "hidden", "heads", "ffn")
               if getattr(config, k) is not None]
    for name, value, low, high in ranges:
        positive = name in ("--lr", "mask_rate", "grad_clip")  # must be > low, not >= low
        if not math.isfinite(value) or value < low or (positive and value <= low) or (high is not None and value >= high):
            bound = f"> {low}" if positive else f">= {low}"
            raise InputError(f"{name} {value} is out of range (it must be {bound}{f' and < {high}' if high else ''})")
    n_valid = min(config.valid_max, round(config.valid_fraction * distinct))
    if config.valid_fraction > 0 and n_valid < 1:
        need = math.ceil(0.5 / config.valid_fraction)
        raise InputError(f"the corpus has {distinct} distinct sequence(s): --valid-fraction {config.valid_fraction} "
                         f"holds out none (it needs at least {need}); add sequences or pass --valid-fraction 0 to "
                         "train without a held-out set")


def model_config(config: PretrainConfig) -> ESM2Config:
    """The :class:`ESM2Config` of a run: the preset, with any size given by hand."""
    if config.preset not in PRESETS:
        raise InputError(f"unknown model size {config.preset!r}; presets: {sorted(PRESETS)}")
    layers, hidden, heads, ffn = PRESETS[config.preset]
    return ESM2Config(num_layers=config.layers or layers, hidden_size=config.hidden or hidden,
                      num_heads=config.heads or heads, intermediate_size=config.ffn or ffn)


def _train_config(config: PretrainConfig) -> TrainConfig:
    return TrainConfig(learning_rate=config.learning_rate, weight_decay=config.weight_decay, warmup=config.warmup,
                       min_lr_ratio=config.min_lr_ratio, grad_clip=config.grad_clip, max_epochs=1_000_000,
                       max_steps=config.steps, eval_every=config.eval_every, patience=None, monitor="loss", mode="min",
                       log_every=config.log_every, checkpoint_every=config.checkpoint_every, seed=config.seed)


# ------------------------------------------------------------------------------------ masking


def mask_tokens(tokens: Int[Array, "B T"], key: PRNGKeyArray, rate: float = 0.15) -> tuple[Int[Array, "B T"], Array]:
    """BERT masking of residue tokens: returns ``(inputs, chosen)``.

    Each residue (not ``<cls>``, ``<eos>`` or padding) is chosen with probability ``rate``; a
    chosen one becomes ``<mask>`` (80%), a random standard amino acid (10%) or stays (10%).
    """
    k_pick, k_kind, k_aa = jax.random.split(key, 3)
    residue = (tokens != CLS) & (tokens != EOS) & (tokens != PAD)
    chosen = residue & (jax.random.uniform(k_pick, tokens.shape) < rate)
    kind = jax.random.uniform(k_kind, tokens.shape)
    random_aa = jnp.asarray(AMINO_IDS)[jax.random.randint(k_aa, tokens.shape, 0, len(AMINO_IDS))]
    inputs = jnp.where(chosen & (kind < 0.8), MASK, jnp.where(chosen & (kind < 0.9), random_aa, tokens))
    return inputs, chosen


def _masked_nll(model: ESM2, tokens: Int[Array, "B T"], w: Float[Array, " B"], key: PRNGKeyArray, rate: float):
    """Per-position NLL of the original tokens, the positions scored, and whether argmax was right."""
    inputs, chosen = mask_tokens(tokens, key, rate)
    logits = jax.vmap(lambda t: model(t).logits)(inputs)
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, tokens[..., None], axis=-1)[..., 0]
    scored = chosen & (w[:, None] > 0)
    return nll, scored, logits.argmax(-1) == tokens


@functools.cache
def masked_lm_loss(rate: float = 0.15):
    """``loss_fn(model, state, batch, key)`` for :func:`~biolens.core.train.fit`: the mean
    cross-entropy over the masked positions of a batch ``{"tokens": (B, T), "w": (B,)}`` (one
    function per rate: runs of one rate share a compiled training step)."""

    def loss_fn(model, state, batch, key):
        nll, scored, _ = _masked_nll(model, batch["tokens"], batch["w"], key, rate)
        return jnp.sum(jnp.where(scored, nll, 0.0)) / jnp.maximum(scored.sum(), 1), state

    return loss_fn


@eqx.filter_jit
def _eval_sums(model: ESM2, tokens, w, key, rate: float):
    nll, scored, right = _masked_nll(model, tokens, w, key, rate)
    return jnp.sum(jnp.where(scored, nll, 0.0)), jnp.sum(scored), jnp.sum(scored & right)


# ------------------------------------------------------------------------------------- corpus


def split_corpus(sequences: Sequence[str], *, valid_fraction: float, valid_max: int, seed: int) -> tuple[list[str], list[str], int]:
    """Deduplicate and hold out a validation set: ``(train, valid, duplicates_dropped)``.

    Sequences are ordered by a seeded hash of their text, so the split does not depend on the
    order of the file; the first ``min(valid_max, valid_fraction * N)`` are held out.
    """
    unique = list(dict.fromkeys(sequences))
    order = sorted(unique, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    n_valid = min(valid_max, round(valid_fraction * len(order))) if valid_fraction > 0 else 0
    if len(order) - n_valid < 1:
        raise InputError(f"the corpus has {len(order)} distinct sequence(s): too few to train on")
    return order[n_valid:], order[:n_valid], len(sequences) - len(unique)


class CorpusBatches(ResidueBatches):
    """Token batches of a corpus for :func:`~biolens.core.train.fit` (``{"tokens", "w"}``):
    length-bucketed under a token budget, order and crop windows drawn from ``(seed, epoch)``."""

    def __init__(self, sequences: Sequence[str], *, crop: int, token_budget: int, seed: int, shuffle: bool = True):
        self.sequences, self.crop, self.seed_ = list(sequences), crop, seed
        self._epoch = 0
        lengths = [min(len(s), crop) for s in self.sequences]
        super().__init__(lengths, self._tokens, batch_size=1 << 16, token_budget=token_budget, shuffle=shuffle,
                         seed=seed)

    def epoch(self, index: int) -> Iterator[dict[str, np.ndarray]]:
        self._epoch = index
        yield from super().epoch(index)

    def _window(self, i: int) -> str:
        seq = self.sequences[i]
        if len(seq) <= self.crop:
            return seq
        start = np.random.default_rng((self.seed_, self._epoch, i)).integers(0, len(seq) - self.crop + 1)
        return seq[start : start + self.crop]

    def _tokens(self, rows: np.ndarray, length: int) -> dict[str, np.ndarray]:
        return {"tokens": tokenize([self._window(int(i)) for i in rows], length=length + 2)}


def evaluate_mlm(model: ESM2, sequences: Sequence[str], *, crop: int = 1022, token_budget: int = 8192,
                 rate: float = 0.15, seed: int = 0) -> dict[str, float]:
    """Masked-residue loss, perplexity (``exp(loss)``) and accuracy on ``sequences``, with BERT
    masking drawn from ``seed`` (the same positions every call); long proteins keep their first
    ``crop`` residues."""
    batches = CorpusBatches(sequences, crop=crop, token_budget=token_budget, seed=seed, shuffle=False)
    key = jax.random.PRNGKey(seed)
    total, count, right = 0.0, 0, 0
    for n, (_, batch) in enumerate(batches.ordered()):
        s, c, r = _eval_sums(model, jnp.asarray(batch["tokens"]), jnp.asarray(batch["w"]), jax.random.fold_in(key, n), rate)
        total, count, right = total + float(s), count + int(c), right + int(r)
    loss = total / max(count, 1)
    return {"loss": loss, "perplexity": math.exp(loss), "accuracy": right / max(count, 1), "masked": count}


# --------------------------------------------------------------------------------------- runs


@dataclass(frozen=True, kw_only=True)
class PretrainResult(RunResult):
    """What :func:`pretrain` produced (``result.json``; ``model`` and ``history`` are not saved there:
    the model is in ``checkpoint/``, the log in ``train/metrics.jsonl``)."""

    out_dir: str
    metrics: dict[str, float]
    steps: int
    best_step: int | None
    parameters: int
    resumed_from: int | None
    seconds: float
    cpu_seconds_this_call: float
    extended_from: int | None = None  # the run was planned for this many steps and continued to ``steps``
    model: ESM2 | None = field(default=None, metadata=IN_MEMORY)
    history: list[dict[str, Any]] | None = field(default=None, metadata=IN_MEMORY)


KIND = "mlm-pretrain"


def pretrain(sequences: Sequence[str], out_dir: str | Path, config: PretrainConfig | None = None, *,
             source: str = "", progress: bool = False) -> PretrainResult:
    """Train a masked LM on ``sequences`` (validated protein letters) into the run folder ``out_dir``.

    Re-running into the same folder resumes a killed run from its last checkpoint (and returns a
    finished one); other settings or another corpus in that folder are refused, naming what differs.
    A finished run asked for more ``steps`` (all else the same) is continued from its last state
    (weights and optimizer): its planned schedule has ended, so the extra steps run at the
    schedule's final learning rate (``learning_rate * min_lr_ratio``), constant. ``config.json``
    records it (``settings.extended_to``), the result says ``extended_from``; the original schedule
    is not replayed, so an extended run is not the run a larger ``steps`` from scratch would give.
    """
    config = config or PretrainConfig()
    check_config(config, len(set(sequences)))
    train, valid, dropped = split_corpus(sequences, valid_fraction=config.valid_fraction,
                                         valid_max=config.valid_max, seed=config.seed)
    settings = {"pretrain": config_to_dict(config), "model": model_config(config).to_hf()}
    data = {"digest": content_digest(train, valid), "train": len(train), "valid": len(valid)}
    info = {"source": source, "sequences": len(sequences), "duplicates_dropped": dropped,
            "train_residues": sum(map(len, train))}
    folder = RunFolder(out_dir)
    folder.lock()
    try:
        settings, planned = _extension(folder, settings, data, config.steps)
        with folder.open(kind=KIND, settings=settings, data=data, info=info,
                         defaults={"pretrain": config_defaults(config)}) as run:
            if (done := run.read_result(PretrainResult)) is not None:
                return _with_model(done, run)
            return _pretrain(run, train, valid, config, progress, planned)
    finally:
        folder.close()


def _extension(folder: RunFolder, settings: dict[str, Any], data: dict[str, Any],
               steps: int) -> tuple[dict[str, Any], int | None]:
    """The identity settings and planned step count when ``steps`` continues the run in ``folder``
    past its planned end (the folder's settings are amended when it continues further than
    before); ``(settings, None)`` otherwise, for the ordinary start-up check."""
    saved = folder.identity()
    if saved is None or saved["kind"] != KIND:
        return settings, None
    old = saved["settings"]
    planned = old["pretrain"]["steps"]
    reached = old.get("extended_to", planned)
    extended = {**settings, "pretrain": {**settings["pretrain"], "steps": planned}, "extended_to": steps}
    if steps <= planned or saved["data"] != data or identity_diff(
            {**old, "extended_to": None}, {**extended, "extended_to": None}):
        return settings, None  # not a continuation: open() accepts it or names what differs
    if steps < reached:
        raise RunMismatchError(f"{folder.path} holds a run extended to {reached} steps; --steps {steps} cannot shorten "
                               f"it: use --steps {reached} to reuse it, more to extend it again, or a new --out folder")
    if steps > reached:
        if not folder.finished:
            raise RunMismatchError(f"{folder.path} holds an unfinished run of {reached} steps: finish it first (the "
                                   f"same command with --steps {reached}), then extend it with --steps {steps}")
        folder.amend(extended)
    return extended, planned


def _with_model(result: PretrainResult, run: RunFolder) -> PretrainResult:
    from ...core.train import LOG_FILE
    from ..encoders.esm2._io import load_esm2

    log = run.train_dir / LOG_FILE
    history = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    return replace(result, model=load_esm2(run.checkpoint_dir), history=history, resumed_from=None)


def _pretrain(run: RunFolder, train: list[str], valid: list[str], config: PretrainConfig,
              progress: bool, planned: int | None = None) -> PretrainResult:
    atomic_write_text(run.path / "valid.fasta", "".join(f">valid{i}\n{s}\n" for i, s in enumerate(valid)))
    model = ESM2(model_config(config), key=jax.random.PRNGKey(config.seed))
    batches = CorpusBatches(train, crop=config.crop, token_budget=config.token_budget, seed=config.seed)

    def evaluate(model, state):
        if not valid:
            return {"loss": float("nan")}
        return evaluate_mlm(model, valid, crop=config.crop, token_budget=config.token_budget,
                            rate=config.mask_rate, seed=config.seed)

    tcfg = replace(_train_config(config), extend_from=planned)
    if not valid:
        tcfg = replace(tcfg, eval_every=None)
    started = time.process_time()
    res = fit(model, masked_lm_loss(config.mask_rate), batches, tcfg, evaluate=evaluate if valid else None,
              run_dir=run.train_dir, progress=progress, description="pretraining")
    final = evaluate(res.model, None)
    save_esm2(res.model, run.checkpoint_dir)
    result = PretrainResult(out_dir=str(run.path), metrics=final, steps=res.steps, best_step=res.best_step,
                            parameters=sum(x.size for x in jax.tree.leaves(eqx.filter(res.model, eqx.is_array))),
                            resumed_from=res.resumed_from, seconds=res.seconds,
                            cpu_seconds_this_call=time.process_time() - started, extended_from=planned,
                            model=res.model, history=res.history)
    fig = _curves(res.history)
    fig.savefig(run.path / "curves.png", dpi=110)
    _write_report(run, result, fig)
    run.write_result(result)
    return result


def _write_report(run: RunFolder, result: PretrainResult, fig: Any) -> None:
    from ...report import Report

    saved = run.config()
    page = Report(f"masked-LM pretraining: {Path(saved['info']['source'] or 'corpus').name}")
    page.text(f"{saved['data']['train']:,} training and {saved['data']['valid']:,} held-out sequences; "
              f"{result.parameters:,} parameters; {result.steps} steps"
              + (f" (planned {result.extended_from}, then continued at the schedule's final learning rate)."
                 if result.extended_from else "."))
    if "perplexity" in result.metrics:
        page.table([dict(result.metrics)])
    page.figure(fig, caption="loss, perplexity and masked-residue accuracy against step")
    page.settings({**saved["settings"]["pretrain"], "data digest": saved["data"]["digest"][:16]})
    page.write(run.report_path)


def _curves(history: list[dict[str, Any]]) -> Any:
    from ...report import new_figure

    train = [r for r in history if r.get("split") == "train"]
    val = [r for r in history if r.get("split") == "val" and math.isfinite(r.get("loss", float("nan")))]
    fig, (ax_loss, ax_ppl, ax_acc) = new_figure(width=12, height=3.4, ncols=3)
    for ax, name, f in ((ax_loss, "loss", lambda v: v), (ax_ppl, "perplexity", math.exp)):
        ax.plot([r["step"] for r in train], [f(r["loss"]) for r in train], label="train", color="#0072B2")
        ax.plot([r["step"] for r in val], [f(r["loss"]) for r in val], "o-", label="held out", color="#D55E00")
        ax.set_xlabel("step")
        ax.set_ylabel(f"masked-residue {name}")
        ax.legend(loc="best")
    ax_acc.plot([r["step"] for r in val], [r["accuracy"] for r in val], "o-", color="#D55E00")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("held-out masked-residue accuracy")
    return fig
