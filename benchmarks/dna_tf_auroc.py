"""Acceptance numbers: auROC per TF on DeepBind's ``_B`` test sets for the CNN and the conv+transformer.

Each model is trained on the TF's ``_AC`` positives plus one dinucleotide-shuffled negative per
positive (10% of the positives, with their negatives, carved out for validation and early
stopping), exactly as ``biolens dna train --train <TF>_AC.seq.gz`` does, then scored on
``<TF>_B.seq.gz`` (500 bound + 500 shuffled) with percentile-bootstrap 95% intervals.
``CTCF_..._B`` has no ``_AC`` training file: it is scored with the CTCFL models (CTCFL/BORIS
shares CTCF's zinc-finger DNA-binding domain and motif), next to a no-training baseline that
scores each sequence by its best JASPAR MA0139.1 (CTCF) log-odds match on either strand.

Usage (results go to OUT/results.json, which lets a re-run skip finished pairs)::

    nice -n 19 python benchmarks/dna_tf_auroc.py --data ../shared/data/dna/tf_binding --out runs/dna_acceptance
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from biolens.core.train import TrainConfig
from biolens.dna import (
    load_model,
    model_config,
    predict_proba,
    prepare_training,
    read_tf_data,
    train_model,
)
from biolens.dna._prepare import label_arrays
from biolens.dna._train import metric_intervals


def evaluate_file(run: Path, path: Path, n_boot: int) -> dict:
    trained = load_model(run)
    data = read_tf_data(path)
    arrays = label_arrays(data, trained.tasks)
    prob = predict_proba(trained.model, trained.state, arrays.x)[:, 0]
    return metric_intervals(arrays.y[:, 0], prob, n_resamples=n_boot)


def pwm_baseline(path: Path, n_boot: int) -> dict:
    from biolens.dna import one_hot
    from biolens.interpret import CTCF_MOTIF, scan_scores

    data = read_tf_data(path)
    scores = scan_scores(CTCF_MOTIF, one_hot(data.sequences)).max(axis=(1, 2))
    from biolens.core.bootstrap import bootstrap
    from biolens.core.metrics import auroc

    return {"auroc": bootstrap(auroc, data.labels, scores, n_resamples=n_boot).as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/dna/tf_binding"))
    parser.add_argument("--out", type=Path, default=Path("runs/dna_acceptance"))
    parser.add_argument("--models", nargs="+", default=["cnn", "conv-transformer"])
    parser.add_argument("--tfs", nargs="*", default=None)
    parser.add_argument("--max-steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    ac_files = sorted((args.data / "deepbind_encode").glob("*_AC.seq.gz"))
    cfg = TrainConfig(learning_rate=1e-3, batch_size=args.batch_size, max_epochs=50, max_steps=args.max_steps,
                      eval_every=150, patience=3, monitor="auroc", mode="max", seed=0)
    for model_name in args.models:
        for ac in ac_files:
            tf = ac.name.split("_")[0]
            key = f"{tf}/{model_name}"
            if (args.tfs and tf not in args.tfs) or key in results:
                continue
            start = time.time()
            data = read_tf_data(ac)
            train, val, summary = prepare_training(data, (tf,), val_fraction=0.1, seed=0)
            run = args.out / tf / model_name
            _, fit = train_model(train, val, (tf,), model_config(model_name), cfg, run_dir=run, data_summary=summary)
            b_file = next(ac.parent.glob(ac.name.replace("_AC.seq.gz", "_B.seq.gz")))
            row = {"test": evaluate_file(run, b_file, args.bootstrap), "validation": fit.best_metrics,
                   "steps": fit.steps, "best_step": fit.best_step, "train_records": summary["train_records"],
                   "seconds": round(time.time() - start, 1)}
            if tf == "CTCFL":
                row["CTCF_B"] = evaluate_file(run, args.data / "CTCF_NH-A_CTCF_Broad_B.seq.gz", args.bootstrap)
            results[key] = row
            results_file.parent.mkdir(parents=True, exist_ok=True)
            results_file.write_text(json.dumps(results, indent=1))
            print(key, json.dumps(row["test"]["auroc"]), row["seconds"], file=sys.stderr, flush=True)
    if "pwm/CTCF_B" not in results:
        try:
            results["pwm/CTCF_B"] = pwm_baseline(args.data / "CTCF_NH-A_CTCF_Broad_B.seq.gz", args.bootstrap)
            ctcfl_b = next((args.data / "deepbind_encode").glob("CTCFL_*_B.seq.gz"))
            results["pwm/CTCFL_B"] = pwm_baseline(ctcfl_b, args.bootstrap)
            results_file.write_text(json.dumps(results, indent=1))
        except ImportError:
            pass
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
