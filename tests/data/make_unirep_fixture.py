"""Write the UniRep golden fixture: a tiny random mLSTM and the reference's outputs on it.

Needs ``jax-unirep`` (``pip install 'biolens[unirep]'``): the expected outputs are computed by
jax-unirep's own model code, so ``tests/test_unirep.py`` can check biolens against the reference
even where jax-unirep is not installed. Run from the repository root::

    python tests/data/make_unirep_fixture.py

Writes (both small, committed):

* ``tests/data/unirep_tiny_weights.npz``: 3 cells of width 8 in jax-unirep's key layout
  (``embedding``, ``mlstm.<i>.<param>``, ``dense.w``, ``dense.b``), random with a fixed seed and
  scales that make every gate matter.
* ``tests/data/unirep_tiny_expected.npz``: ``sequences``; ``h_avg``, ``h_final``, ``c_final``
  ``(N, 8)`` from ``jax_unirep.get_reps``; ``states_<k>`` = cell ``k``'s hidden states of all
  sequences, positions ``[start, r1..rL]`` stacked ``(sum(L + 1), 8)``, cut at ``offsets``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

HERE = Path(__file__).parent
WIDTH, CELLS, EMBED = 8, 3, 10
#: every accepted letter (including X B Z J U O), a one-residue protein and a few lengths.
SEQUENCES = [
    "MRHKDESTNQCUGPAVIFYWLOXZBJ",
    "M",
    "GA",
    "MKTAYIAKQRQISFVKSHFSRQ",
    "PEPTIDEXXBZJ",
    "MSEQLLKALLAALVPVLLSAAGCAWAAEPQLSLSS",
]


def random_weights(seed: int = 20190415) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {"embedding": rng.normal(0.0, 1.0, (26, EMBED))}
    for i in range(CELLS):
        fan_in = EMBED if i == 0 else WIDTH
        shapes = {"wmx": (fan_in, WIDTH), "wmh": (WIDTH, WIDTH), "wx": (fan_in, 4 * WIDTH), "wh": (WIDTH, 4 * WIDTH)}
        for key, shape in shapes.items():
            arrays[f"mlstm.{i}.{key}"] = rng.normal(0.0, 1.0, shape)
        for key, size in {"gmx": WIDTH, "gmh": WIDTH, "gx": 4 * WIDTH, "gh": 4 * WIDTH}.items():
            arrays[f"mlstm.{i}.{key}"] = rng.uniform(0.5, 2.5, size)
        arrays[f"mlstm.{i}.b"] = rng.normal(0.0, 0.5, 4 * WIDTH)
    arrays["dense.w"] = rng.normal(0.0, 0.3, (WIDTH, 25))
    arrays["dense.b"] = rng.normal(0.0, 0.1, 25)
    return {k: v.astype(np.float32) for k, v in arrays.items()}


def reference_states(model, sequence: str) -> list[np.ndarray]:
    """Every cell's hidden states on ``[start] + residues``, run the way jax-unirep's MLSTM runs."""
    from jax_unirep.utils import seq_to_oh

    activations = model.embed(seq_to_oh(sequence)[:-1])  # drop the stop token, as get_reps does
    out = []
    for cell in model.cells:
        _, _, activations = cell(activations)
        out.append(np.asarray(activations))
    return out


def main() -> None:
    from jax_unirep import get_reps, load_model

    weights = random_weights()
    np.savez(HERE / "unirep_tiny_weights.npz", **weights)
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "model_weights.npz", **weights)
        model = load_model(folderpath=tmp)
    h_avg, h_final, c_final = get_reps(SEQUENCES, model=model)
    per_cell = [reference_states(model, s) for s in SEQUENCES]
    lengths = [len(s) + 1 for s in SEQUENCES]
    expected = {
        "sequences": np.array(SEQUENCES),
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "h_avg": h_avg, "h_final": h_final, "c_final": c_final,
    }
    for k in range(CELLS):
        expected[f"states_{k}"] = np.concatenate([states[k] for states in per_cell]).astype(np.float32)
    np.savez(HERE / "unirep_tiny_expected.npz", **expected)
    print(f"wrote {HERE / 'unirep_tiny_weights.npz'} and {HERE / 'unirep_tiny_expected.npz'}")


if __name__ == "__main__":
    main()
