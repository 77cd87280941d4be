"""Regenerate the tiny ESM2 golden fixture in ``tests/data/esm2_tiny/`` (needs torch + transformers).

    python tests/data/make_esm2_golden.py

Writes a random tiny ``EsmForMaskedLM`` in the Hugging Face hub layout (``config.json`` +
``model.safetensors`` with the tensor names of the published ``facebook/esm2_*`` files:
``LayerNorm.weight``/``bias`` and a per-layer ``rotary_embeddings.inv_freq``), and
``expected.npz`` with the token batch, every hidden state and the logits computed by
``transformers`` (float32, eval mode). ``tests/test_esm2.py`` checks biolens against it
without torch.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "esm2_tiny"
SEQUENCES = ["MKTAYIAKQRQISFVKSHFSRQ", "GXBZUOACD", "LLV", "MKV"]  # <mask> put into row 0 below
CONFIG = dict(
    vocab_size=33, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    position_embedding_type="rotary", token_dropout=True, emb_layer_norm_before=False,
    mask_token_id=32, pad_token_id=1, layer_norm_eps=1e-5, max_position_embeddings=1026,
    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)  # fmt: skip


def _hub_names(tensors: dict, num_layers: int) -> dict:
    """transformers 5 writes ``LayerNorm.gamma``/``beta`` and one ``layer.*`` inv_freq; the hub
    files (written by transformers 4) have ``weight``/``bias`` and one inv_freq per layer."""
    out = {}
    for name, value in tensors.items():
        if ".*." in name:
            for i in range(num_layers):
                out[name.replace(".*.", f".{i}.")] = value.copy()
            continue
        out[name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")] = value
    return out


def main() -> int:
    import torch
    from safetensors.numpy import load_file, save_file
    from transformers import EsmConfig, EsmForMaskedLM

    sys.path.insert(0, str(Path(__file__).parents[2] / "src"))
    from biolens.proteins.encoders.esm2 import MASK, PAD, tokenize

    torch.manual_seed(0)
    model = EsmForMaskedLM(EsmConfig(**CONFIG)).eval()
    with torch.no_grad():  # move every parameter off its init (unit LayerNorms, zero biases)
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tensors = load_file(f"{tmp}/model.safetensors")
        config = json.loads(Path(f"{tmp}/config.json").read_text())
    OUT.mkdir(exist_ok=True)
    save_file(_hub_names(tensors, CONFIG["num_hidden_layers"]), OUT / "model.safetensors", metadata={"format": "pt"})
    (OUT / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")

    tokens = tokenize(SEQUENCES, length=26)
    tokens[0, 5] = MASK
    tokens[1, 2] = MASK
    reloaded = EsmForMaskedLM.from_pretrained(OUT).eval()  # the hub-named file must load identically
    with torch.no_grad():
        ids = torch.tensor(tokens, dtype=torch.long)
        mask = torch.tensor(tokens != PAD, dtype=torch.long)
        out = reloaded(ids, attention_mask=mask, output_hidden_states=True)
        ref = model(ids, attention_mask=mask)
    assert torch.allclose(out.logits, ref.logits), "the renamed checkpoint does not reproduce the model"
    np.savez_compressed(
        OUT / "expected.npz",
        tokens=tokens,
        hidden_states=np.stack([h.numpy() for h in out.hidden_states], axis=1),
        logits=out.logits.numpy(),
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
