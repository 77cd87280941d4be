"""Time and peak memory of refusing the issue-14 ``.pt`` file (stride 0, claimed shape
(50,000,000, 2)) with the safe reader, in a fresh process. Prints JSON.

    python benchmarks/pt_reader_bounds.py
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from biolens.core.errors import BiolensError
from biolens.graphs import read_split
from pt_files import stride_zero_bomb


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = stride_zero_bomb(Path(tmp) / "valid.pt")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start, cpu = time.perf_counter(), time.process_time()
        try:
            read_split(path, 10)
            outcome = "read"
        except BiolensError as exc:
            outcome = f"refused: {str(exc).split(': ', 1)[1][:120]}"
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"file_bytes": path.stat().st_size, "outcome": outcome, "wall_s": round(wall, 4),
                          "cpu_s": round(cpu, 4), "peak_rss_mib": round(peak / 1024, 1),
                          "rss_before_mib": round(before / 1024, 1)}))


if __name__ == "__main__":
    main()
