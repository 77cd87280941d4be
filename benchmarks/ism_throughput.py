"""ISM throughput and peak memory for 1,000 sequences (101 bp -> 303,000 mutants).

Prints JSON: mutants scored per second of wall time and per CPU-second (the fairer figure on a
shared machine), the process's resident memory before ISM and its peak, for each model and batch size, next to the memory that scoring all mutants in one
array would take. Weights do not change the cost, so a run folder is optional::

    nice -n 19 python benchmarks/ism_throughput.py [--run RUN] [--n 1000] [--batch-sizes 512 2048]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import jax
import numpy as np

from biolens.data import resolve_input
from biolens.dna import init_model, load_model, make_predict, model_config, one_hot, read_tf_data
from biolens.interpret import saturation_mutagenesis


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sequences(n: int) -> np.ndarray:
    data = read_tf_data(resolve_input("sample:ctcfl_train"))
    reps = -(-n // len(data))
    return one_hot(list(data.sequences) * reps)[:n]


def measure(name: str, predict, x: np.ndarray, batch_size: int) -> dict:
    fn = jax.jit(predict)
    saturation_mutagenesis(fn, x[:2], batch_size=batch_size)  # compile outside the timing
    before = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    saturation_mutagenesis(fn, x, batch_size=batch_size)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    mutants = x.shape[0] * x.shape[1] * 3  # every non-reference base of a one-hot sequence
    return {"model": name, "batch_size": batch_size, "sequences": len(x), "mutants": mutants,
            "seconds": round(seconds, 2), "mutants_per_second": round(mutants / seconds),
            "cpu_seconds": round(cpu, 2), "mutants_per_cpu_second": round(mutants / cpu),
            "rss_before_mb": round(before, 1), "peak_rss_mb": round(_peak_mb(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", default=None, help="A trained run folder (default: freshly initialised models).")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--models", nargs="+", default=["cnn", "conv-transformer"])
    args = parser.parse_args()
    x = sequences(args.n)
    results = []
    for name in ([args.run] if args.run else args.models):
        if args.run:
            trained = load_model(args.run)
            model, state = trained.model, trained.state
        else:
            model, state = init_model(model_config(name))
        predict = make_predict(model, state, output="logit")
        for bs in args.batch_sizes:
            results.append(measure(name, lambda b, p=predict: p(b)[:, 0], x, bs))
    n, length = x.shape[:2]
    print(json.dumps({
        "results": results,
        "all_mutants_at_once_mb": round(n * length * 3 * length * 4 * 4 / 2**20, 1),
        "load_average": os.getloadavg(), "cpus": os.cpu_count(), "jax_backend": jax.default_backend(),
    }, indent=1))


if __name__ == "__main__":
    main()
