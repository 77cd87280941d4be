"""The main job's cost: run the default benchmark (``biolens benchmark --out DIR``, nothing else)
from scratch in a fresh folder with a fresh embedding store, then a second time with the same
settings, and print JSON: wall and CPU seconds, peak memory, load average, and what the second
run reused (cells, embedding cache hits).

    python benchmarks/default_benchmark.py [--keep DIR]

Each run is a child process (``python -m biolens benchmark --out DIR``) with ``BIOLENS_CACHE``
pointing into the temporary folder, so the user's own store is neither read nor filled. CPU
seconds and peak RSS are the child's (``resource.RUSAGE_CHILDREN``, measured per run: the peak
of the first run cannot hide the second's because each run's peak is read from its own
``benchmark.json`` too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(out: Path, env: dict[str, str], log: Path) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()
    start = time.perf_counter()
    with log.open("w") as fh:
        code = subprocess.call([sys.executable, "-m", "biolens", "benchmark", "--out", str(out)], env=env,
                               stdout=fh, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"biolens benchmark exited with {code}; see {log}")
    inv = json.loads((out / "benchmark.json").read_text())["history"][-1]
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "peak_rss_mb": inv["peak_rss_mb"],
        "load_average_before": [round(x, 2) for x in load],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **{k: inv[k] for k in ("cells", "cells_computed", "cells_reused", "cells_failed", "embeddings_cache_hits",
                               "embeddings_computed", "maps_reused")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, default=None,
                        help="Work in this (new) folder and keep it: DIR/out holds the report, DIR/cache.sqlite the store.")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="biolens-default-"))
    if args.keep and root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty: the first run must start from scratch")
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BIOLENS_CACHE": str(root / "cache.sqlite")}
    try:
        first = _run(root / "out", env, root / "first.log")
        second = _run(root / "out", env, root / "second.log")
        board = (root / "out" / "leaderboard.csv").read_text()
        printed = (root / "first.log").read_text()
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({"command": "biolens benchmark --out DIR", "cpus": os.cpu_count(), "first_run": first,
                      "second_run": second, "leaderboard_csv": board, "first_run_output": printed}, indent=2))


if __name__ == "__main__":
    main()
