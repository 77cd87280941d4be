"""Fine-tuning cost and benefit on sample:solubility: frozen encoder vs full fine-tune vs LoRA.

Runs ``biolens train --data sample:solubility -e ENCODER --epochs 2 --size-curve none`` three ways
(frozen head, ``--finetune``, ``--finetune lora``) in fresh processes under ``/usr/bin/time -v``
and prints JSON: wall s, CPU s, peak RSS MB, the test auROC and the training steps.

    python benchmarks/finetune.py --encoder mlm:RUN [--encoder mlm:small] [--out docs/reports/finetune.json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = {"frozen": [], "full": ["--finetune"], "lora": ["--finetune", "lora"]}


def run(encoder: str, mode: str, work: Path) -> dict:
    out = work / f"{re.sub(r'[^A-Za-z0-9]+', '_', encoder)}_{mode}"
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "biolens", "train", "--data", "sample:solubility", "-e", encoder,
           "--epochs", "2", "--size-curve", "none", "--out", str(out), "-q", *MODES[mode]]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=None)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    err = proc.stderr
    field = lambda name: re.search(rf"{name}: ([0-9.:]+)", err).group(1)  # noqa: E731
    wall = field(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\)").split(":")
    result = json.loads((out / "result.json").read_text())
    steps = [json.loads(line) for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    return {"wall_s": round(sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall))), 1),
            "cpu_s": round(float(field("User time \\(seconds\\)")) + float(field("System time \\(seconds\\)")), 1),
            "peak_rss_mb": round(int(field(r"Maximum resident set size \(kbytes\)")) / 1024),
            "test_auroc": round(result["metrics"]["auroc"]["value"], 4),
            "test_mcc": round(result["metrics"]["mcc"]["value"], 4),
            "train_s": round(result["timings"]["train_s"], 1),
            "steps": max((r["step"] for r in steps), default=0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", action="append", required=True)
    ap.add_argument("--modes", default="frozen,full,lora")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    report = {"data": "sample:solubility (400 proteins; 280 train / 40 valid / 80 test)", "epochs": 2,
              "command": "biolens train --data sample:solubility -e ENCODER --epochs 2 --size-curve none [--finetune [lora]]",
              "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for encoder in args.encoder:
            report["results"][encoder] = {m: run(encoder, m, Path(tmp)) for m in args.modes.split(",")}
            print(json.dumps({encoder: report["results"][encoder]}), file=sys.stderr, flush=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
