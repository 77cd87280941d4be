"""Cold vs warm start of ``biolens embed`` with the persistent JAX compilation cache; prints JSON.

    python benchmarks/cold_warm_start.py                    # mlm:small, esm2-8m (random weights), unirep-256
    python benchmarks/cold_warm_start.py --encoders mlm:small --proteins 32

For each encoder, three fresh processes embed the same proteins (the first ``--proteins`` of
``sample:solubility``, no embedding store): ``off`` with ``--no-jit-cache``, ``cold`` with an
empty cache folder, ``warm`` with the folder the cold run filled. Each records wall seconds and
the CPU seconds of the child process. ESM2 uses random weights in the Hugging Face layout
(needs ``torch`` and ``transformers``: ``pip install 'biolens[torch]' transformers``). Timings on
a shared machine are noisy: the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fasta_from_sample(folder: Path, n: int) -> Path:
    import csv

    from biolens.data import sample_path

    rows = list(csv.DictReader(open(sample_path("solubility"))))[:n]
    path = folder / "proteins.fasta"
    path.write_text("".join(f">p{i}\n{row['sequences']}\n" for i, row in enumerate(rows)))
    return path


def write_esm2_weights(folder: Path) -> Path:
    """Random ESM2-8M-shaped ``EsmModel`` weights, saved as ``transformers`` does."""
    import torch
    from transformers import EsmConfig, EsmModel

    torch.manual_seed(0)
    config = EsmConfig(
        vocab_size=33, mask_token_id=32, pad_token_id=1, position_embedding_type="rotary", token_dropout=True,
        emb_layer_norm_before=False, layer_norm_eps=1e-5, max_position_embeddings=1026,
        hidden_size=320, num_hidden_layers=6, num_attention_heads=20, intermediate_size=1280,
    )  # fmt: skip
    EsmModel(config).eval().save_pretrained(folder, safe_serialization=True)
    return folder


def timed_embed(encoder: str, extra: list[str], fasta: Path, out: Path, cache: list[str]) -> dict[str, float]:
    cmd = [sys.executable, "-m", "biolens", *cache, "embed", str(fasta), "-e", encoder, *extra,
           "--no-cache", "-q", "-o", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def measure(encoder: str, extra: list[str], fasta: Path, tmp: Path) -> dict[str, object]:
    jit = tmp / f"jit-{encoder.replace(':', '_')}"
    off = timed_embed(encoder, extra, fasta, tmp / "off.npz", ["--no-jit-cache"])
    cold = timed_embed(encoder, extra, fasta, tmp / "cold.npz", ["--jit-cache", str(jit)])
    warm = timed_embed(encoder, extra, fasta, tmp / "warm.npz", ["--jit-cache", str(jit)])
    size = sum(p.stat().st_size for p in jit.rglob("*") if p.is_file())
    return {
        "encoder": encoder, "off": off, "cold": cold, "warm": warm,
        "warm_speedup_wall": round(cold["wall_s"] / warm["wall_s"], 2),
        "cache_entries": sum(1 for p in jit.iterdir()), "cache_mb": round(size / 1e6, 2),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", default="mlm:small,esm2-8m,unirep-256")
    parser.add_argument("--proteins", type=int, default=64)
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        fasta = _fasta_from_sample(tmp, args.proteins)
        for encoder in args.encoders.split(","):
            extra = ["--weights", str(write_esm2_weights(tmp / "esm2"))] if encoder.startswith("esm2") else []
            results.append(measure(encoder, extra, fasta, tmp))
    print(json.dumps({
        "benchmark": "cold_warm_start", "proteins": args.proteins, "data": "sample:solubility",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "results": results,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
