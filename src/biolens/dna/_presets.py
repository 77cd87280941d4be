"""Training presets: a model, its optimisation schedule and the data settings, under one name.

``biolens dna train --model NAME`` reads :data:`PRESETS`; :data:`DEFAULT_PRESET` is the one a
plain ``biolens dna train`` uses. All presets share one schedule: batch 128, AdamW 1e-3 with
warm-up + cosine decay over at most 1,800 steps, validation auROC every 150 steps on at most
2,000 + 2,000 records, early stopping after 4 evaluations without a better one, the best model
kept. ``biolens dna benchmark`` measured them on the 10 DeepBind ENCODE factors of the shared
data (``docs/reports/dna/tf_auroc_default.md``): 1,800 steps beat 600 on every hard factor (SP1
0.80 -> 0.90), and the default takes about 4-5 CPU-minutes per factor.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..core.train import TrainConfig
from ._models import ModelConfig, model_config

__all__ = ["DEFAULT_PRESET", "PRESETS", "DnaRunConfig", "preset"]


def _schedule(**overrides) -> TrainConfig:
    base = TrainConfig(learning_rate=1e-3, batch_size=128, max_epochs=50, max_steps=1800, eval_every=150,
                       patience=4, schedule="cosine", monitor="auroc", mode="max", seed=0)
    return dataclasses.replace(base, **overrides)


@dataclass(frozen=True, kw_only=True)
class DnaRunConfig:
    """Everything ``biolens dna train`` needs besides the data (saved as the run's ``config.json``).

    ``max_validation`` caps the validation split (positives, before their shuffled negatives):
    it is scored at every evaluation, and 2,000 + 2,000 already pin an auROC to about +-0.01.
    ``max_train`` (None: all) keeps a seeded random subset of the training positives.
    ``seeds`` > 1 trains that many models from seeds ``train.seed``, ``train.seed + 1``, ... (other
    initialisation, batch order and dropout; the same split) and predicts with the mean of their
    logits (a :class:`~biolens.dna.SeedEnsemble`); it costs ``seeds`` times the training.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=_schedule)
    val_fraction: float = 0.1
    max_validation: int | None = 2000
    max_train: int | None = None
    seeds: int = 1
    source: str = ""

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {self.seeds}")

    def replace(self, *, model: dict | None = None, train: dict | None = None, **fields) -> DnaRunConfig:
        """A copy with some model, train or top-level fields replaced."""
        return dataclasses.replace(
            self, model=dataclasses.replace(self.model, **(model or {})),
            train=dataclasses.replace(self.train, **(train or {})), **fields)


PRESETS: dict[str, DnaRunConfig] = {
    # the book's chapter 2 simple CNN (2 x conv 64x10 + max-pool, MLP 128 -> 64); one strand
    "cnn": DnaRunConfig(model=model_config("cnn"), source="book ch. 2 simple CNN"),
    # the book's CNN with batch norm and dropout 0.2 (its first improvement)
    "cnn-bn": DnaRunConfig(model=model_config("cnn-bn"), source="book ch. 2 CNN + batch norm"),
    # the book's conv + transformer (one pre-norm attention block between the convs and the MLP)
    "conv-transformer": DnaRunConfig(model=model_config("conv-transformer"), source="book ch. 2 conv+transformer"),
    # the same read on both strands: random-strand training, both strands averaged at inference
    # (DeepBind, Alipanahi et al. 2015, Nat. Biotechnol. 33:831, scored both strands)
    "conv-transformer-rc": DnaRunConfig(
        model=model_config("conv-transformer", strands="both"),
        source="book ch. 2 conv+transformer; both strands as DeepBind (Alipanahi et al. 2015)"),
    # conv + bidirectional GRU on both strands: deepRAM (Trabelsi et al. 2019, Bioinformatics 35:i269,
    # Fig. 2/Table 2 on 83 ENCODE ChIP-seq sets) found conv + recurrent models best
    "conv-gru-rc": DnaRunConfig(
        model=model_config("conv-gru", strands="both"),
        source="deepRAM (Trabelsi et al. 2019) conv+BiGRU; both strands as DeepBind"),
}

#: chosen by mean and worst-factor test auROC on the 10 DeepBind ENCODE factors (docs/reports/dna/tf_auroc_default.md):
#: with 1,800 steps conv-gru-rc and conv-transformer-rc share the worst factor (ARID3A 0.877) and the
#: GRU has the higher mean; at 600 steps too
DEFAULT_PRESET = "conv-gru-rc"


def preset(name: str, *, seq_len: int | None = None, n_outputs: int | None = None) -> DnaRunConfig:
    """A preset by name, with the sequence length and number of tasks of the data filled in."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    sizes = {k: v for k, v in (("seq_len", seq_len), ("n_outputs", n_outputs)) if v is not None}
    return PRESETS[name].replace(model=sizes)
