"""Fine-tuning cost and benefit on sample:solubility: frozen encoder vs full fine-tune vs LoRA.

Runs ``biolens --no-jit-cache train --data sample:solubility -e ENCODER --epochs E --size-curve none
--seed S`` (``--epochs``, default 2) three ways (frozen head, ``--finetune``, ``--finetune lora``) for each seed in fresh
processes under ``/usr/bin/time -v`` and prints JSON: wall s, CPU s, peak RSS MB, the test auROC,
train_s and the training steps per run, the mean and standard deviation of the test auROC over the
seeds, and the machine's load average before and after. Every compile is cold (``--no-jit-cache``);
the frozen runs read the embedding store once it holds the encoder's embeddings (the first seed fills it).

    python benchmarks/finetune.py --encoder mlm:RUN [--seeds 0,1,2] [--out docs/reports/finetune.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = {"frozen": [], "full": ["--finetune"], "lora": ["--finetune", "lora"]}


def run(encoder: str, mode: str, seed: int, work: Path, extra: list[str], epochs: int) -> dict:
    out = work / f"{re.sub(r'[^A-Za-z0-9]+', '_', encoder)}_{mode}_{seed}"
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "biolens", "--no-jit-cache", "train", "--data", "sample:solubility",
           "-e", encoder, "--epochs", str(epochs), "--size-curve", "none", "--seed", str(seed), "--out", str(out), "-q",
           *MODES[mode], *(extra if mode != "frozen" else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=None)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    err = proc.stderr
    field = lambda name: re.search(rf"{name}: ([0-9.:]+)", err).group(1)  # noqa: E731
    wall = field(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\)").split(":")
    result = json.loads((out / "result.json").read_text())
    steps = [json.loads(line) for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    head = out / "train" / "head" / "metrics.jsonl"
    head_steps = [json.loads(line) for line in head.read_text().splitlines()] if head.exists() else []
    return {"wall_s": round(sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall))), 1),
            "cpu_s": round(float(field("User time \\(seconds\\)")) + float(field("System time \\(seconds\\)")), 1),
            "peak_rss_mb": round(int(field(r"Maximum resident set size \(kbytes\)")) / 1024),
            "test_auroc": round(result["metrics"]["auroc"]["value"], 4),
            "test_mcc": round(result["metrics"]["mcc"]["value"], 4),
            "embed_s": round(result["timings"]["embed_s"], 1),
            "train_s": round(result["timings"]["train_s"], 1),
            "steps": max((r["step"] for r in steps), default=0),
            **({"head_steps": max(r["step"] for r in head_steps)} if head_steps else {})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", action="append", required=True)
    ap.add_argument("--modes", default="frozen,full,lora")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--extra", default="", help="more `biolens train` options for the fine-tuning modes")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    report = {"data": "sample:solubility (400 proteins; 280 train / 40 valid / 80 test)", "epochs": args.epochs,
              "command": f"biolens --no-jit-cache train --data sample:solubility -e ENCODER --epochs {args.epochs} "
                         "--size-curve none "
                         "--seed S [--finetune [lora]]" + (f" {args.extra}" if args.extra else ""),
              "seeds": seeds, "load_before": [round(x, 2) for x in os.getloadavg()], "results": {}, "summary": {}}
    extra = args.extra.split()
    with tempfile.TemporaryDirectory() as tmp:
        for encoder in args.encoder:
            runs = {m: {str(s): run(encoder, m, s, Path(tmp), extra, args.epochs) for s in seeds} for m in args.modes.split(",")}
            report["results"][encoder] = runs
            summary = {}
            for mode, by_seed in runs.items():
                ok = [r for r in by_seed.values() if "error" not in r]
                if not ok:
                    continue
                auroc = [r["test_auroc"] for r in ok]
                summary[mode] = {"test_auroc_mean": round(statistics.mean(auroc), 4),
                                 "test_auroc_std": round(statistics.stdev(auroc), 4) if len(auroc) > 1 else 0.0,
                                 "train_s_mean": round(statistics.mean(r["train_s"] for r in ok), 1),
                                 "wall_s_mean": round(statistics.mean(r["wall_s"] for r in ok), 1)}
            report["summary"][encoder] = summary
            print(json.dumps({encoder: summary}), file=sys.stderr, flush=True)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
