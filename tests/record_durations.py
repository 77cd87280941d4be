"""Write tests/file_seconds.json -- the seconds each test file took -- from a JUnit XML report, for
the longest-first file order in conftest.py. After a change that moves test time around::

    python -m pytest -q -n 2 --dist loadfile --junitxml=/tmp/junit.xml
    python tests/record_durations.py /tmp/junit.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).with_name("file_seconds.json")


def file_seconds(junit: Path) -> dict[str, float]:
    """Per test file (its path from the repository root, as in pytest's node ids), the summed
    ``time`` of its test cases (setup, call and teardown)."""
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):  # our own report: not untrusted input
        path = case.get("classname", "").split(".")
        # classname is the dotted module path, then any test class: keep the parts up to the test_ module
        parts = []
        for part in path:
            parts.append(part)
            if part.startswith("test_"):
                break
        totals["/".join(parts) + ".py"] += float(case.get("time", 0.0))
    return {k: round(v, 1) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT.write_text(json.dumps(file_seconds(Path(sys.argv[1])), indent=1) + "\n")
    print(f"wrote {OUT} ({len(json.loads(OUT.read_text()))} files)")
