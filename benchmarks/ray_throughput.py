"""Embedding throughput of the Ray backend against the local one; prints JSON on stdout.

    python benchmarks/ray_throughput.py                           # unirep-64, 300 DeepSol proteins
    python benchmarks/ray_throughput.py --encoder esm2:DIR --n 1000 --workers 1,2,4

For the same proteins and encoder it measures, each in a fresh Python process:

* ``local``: ``biolens.embed(..., backend="local", cache=False)`` -- the whole call (weights, every
  compile, the run: ``cold``) and the same call again in that process (``warm``: steady state).
* ``ray_<k>``: ``embed_sequences_ray(..., workers=k)`` on a Ray cluster started in that process
  (``ray.init``) -- the whole call (cluster start, worker start, weights, compiles, the run, shard
  writes), the same call again on a fresh shard folder with the cluster up (``warm``: workers restart,
  the persistent compilation cache is warm), and a third call on the shards just written
  (``rerun_s``: reads every shard back, computes nothing). ``worker_peak_rss_mb`` is the peak RSS
  (``VmHWM``) of each Ray worker process that embedded, read from ``/proc`` before shutdown.

Every Ray result is compared with the local vectors (``max_abs_diff``; the contract is <= 1e-6).
Timings on a shared machine are noisy: the JSON records the load average before and after, and the
process CPU time of the driver.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "proteins" / "solubility" / "deepsol_val.csv"


def read_proteins(path: Path, n: int) -> list[str]:
    import polars as pl

    frame = pl.read_csv(path)
    column = next(c for c in ("sequences", "sequence", "seq", "Sequence") if c in frame.columns)
    return [s for s in frame[column].to_list() if s][:n]


def ray_worker_rss_mb() -> list[dict[str, Any]]:
    """Peak RSS of every live Ray worker process on this machine (Linux ``/proc``), with the name
    Ray gives it (``ray::_ShardWorker`` is an encoder worker; ``ray::IDLE`` a pooled spare)."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"default_worker.py" not in cmdline and not cmdline.startswith(b"ray::"):
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    name = cmdline.split(b" ")[0].decode(errors="replace")
                    peaks.append({"process": name, "peak_rss_mb": round(int(line.split()[1]) / 1024, 1)})
        except OSError:
            continue
    return sorted(peaks, key=lambda p: -p["peak_rss_mb"])


def worker_local(params: dict[str, Any]) -> dict[str, Any]:
    import biolens

    seqs = read_proteins(Path(params["data"]), params["n"])
    times, vectors = [], None
    for _ in range(2):
        start = time.perf_counter()
        vectors = biolens.embed(seqs, params["encoder"], cache=False)
        times.append(time.perf_counter() - start)
    np.save(params["vectors"], vectors)
    return {"cold_s": times[0], "warm_s": times[1]}


def worker_ray(params: dict[str, Any]) -> dict[str, Any]:
    import ray

    from biolens.distributed import embed_sequences_ray
    from biolens.distributed._cluster import local_runtime_env

    seqs = read_proteins(Path(params["data"]), params["n"])
    reference = np.load(params["vectors"])
    out: dict[str, Any] = {}
    start = time.perf_counter()
    ray.init(num_cpus=params["workers"], include_dashboard=False, log_to_driver=False,
             runtime_env=local_runtime_env())
    out["ray_init_s"] = time.perf_counter() - start
    cache = tempfile.mkdtemp(prefix="ray-jit-")
    try:
        for label in ("cold", "warm"):
            shards = tempfile.mkdtemp(prefix=f"ray-shards-{label}-")
            t0 = time.perf_counter()
            result = embed_sequences_ray(seqs, params["encoder"], workers=params["workers"], shards=shards,
                                         compile_cache=cache, shard_size=params["shard_size"])
            out[f"{label}_s"] = time.perf_counter() - t0 + (out["ray_init_s"] if label == "cold" else 0.0)
            vectors = np.stack(result.arrays())
            out[f"{label}_max_abs_diff"] = float(np.abs(vectors - reference).max())
        out["worker_peak_rss_mb"] = ray_worker_rss_mb()
        t0 = time.perf_counter()
        embed_sequences_ray(seqs, params["encoder"], workers=params["workers"], shards=shards, compile_cache=cache,
                            shard_size=params["shard_size"])
        out["rerun_s"] = time.perf_counter() - t0
    finally:
        ray.shutdown()
    return out


def run_worker(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``worker_<name>(params)`` in a fresh process, with its peak RSS and CPU time."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json") as out:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--params", json.dumps(params),
               "--result", out.name]
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"worker {name} failed ({status})")
        result = json.loads(Path(out.name).read_text())
    result["driver_peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["driver_process_s"] = round(usage.ru_utime + usage.ru_stime, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a CSV with a sequence column")
    parser.add_argument("--n", type=int, default=300, help="proteins to embed")
    parser.add_argument("--encoder", default="unirep-64")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--shard-size", type=int, default=50, help="sequences per shard")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = globals()[f"worker_{args.worker}"](json.loads(args.params))
        Path(args.result).write_text(json.dumps(result))
        return
    seqs = read_proteins(args.data, args.n)
    residues = sum(len(s) for s in seqs)
    report: dict[str, Any] = {"encoder": args.encoder, "data": str(args.data), "proteins": len(seqs),
                              "residues": residues, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        params = {"data": str(args.data), "n": args.n, "encoder": args.encoder, "shard_size": args.shard_size,
                  "vectors": str(Path(tmp) / "local.npy")}
        runs = {"local": run_worker("local", params)}
        for k in (int(w) for w in args.workers.split(",")):
            runs[f"ray_{k}"] = run_worker("ray", {**params, "workers": k})
    for run in runs.values():
        for label in ("cold", "warm"):
            run[f"{label}_residues_per_s"] = round(residues / run[f"{label}_s"], 1)
    report["runs"] = runs
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
