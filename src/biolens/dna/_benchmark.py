"""``biolens dna benchmark``: every DeepBind ``_AC``/``_B`` pair of a folder, one table.

For each factor and preset: train on ``<TF>_..._AC.seq.gz`` (positives; shuffled negatives are
made, as ``biolens dna train`` does), score ``<TF>_..._B.seq.gz`` (its labels), and record test
auROC/auPRC with percentile-bootstrap 95% intervals, the process CPU time (all threads, training
+ scoring, compilation included) and wall time. Results go to ``OUT/results.json`` after every
pair (a re-run skips finished pairs) and ``OUT/table.md``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.files import atomic_write_text
from ._data import read_tf_data
from ._evaluate import check_length
from ._prepare import label_arrays
from ._presets import DEFAULT_PRESET, PRESETS, DnaRunConfig
from ._run import train
from ._train import load_model, metric_intervals, predict_proba

__all__ = ["benchmark", "factor_pairs", "markdown_table", "score_file"]

_AC = re.compile(r"^(?P<stem>.+)_AC\.seq(\.gz)?$")


def factor_pairs(folder: str | Path) -> list[tuple[str, Path, Path]]:
    """``(tf, ac_file, b_file)`` for every ``*_AC.seq[.gz]`` with a ``*_B.seq[.gz]`` beside it, by TF name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("is not a folder", source=str(folder))
    pairs = []
    for ac in sorted(folder.iterdir()):
        m = _AC.match(ac.name)
        if not m:
            continue
        b = next((folder / f"{m['stem']}_B{s}" for s in (".seq.gz", ".seq") if (folder / f"{m['stem']}_B{s}").exists()), None)
        if b is not None:
            pairs.append((ac.name.split("_")[0], ac, b))
    if not pairs:
        raise InputError("holds no DeepBind *_AC.seq.gz files with a matching *_B.seq.gz", source=str(folder))
    return pairs


def score_file(run: str | Path, path: str | Path, *, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Test metrics (bootstrap 95% intervals) of a single-task run on a labelled file."""
    trained = load_model(run)
    data = read_tf_data(path)
    arrays = label_arrays(data, trained.tasks[:1])
    check_length(trained, arrays.x, str(path))
    prob = predict_proba(trained.model, trained.state, arrays.x)[:, 0]
    return metric_intervals(arrays.y[:, 0], prob, n_resamples=n_resamples, seed=seed)


def benchmark(folder: str | Path, out: str | Path, *, presets: Sequence[str] | None = None,
              configs: dict[str, DnaRunConfig] | None = None, tfs: Sequence[str] | None = None,
              n_resamples: int = 1000, motif_check: bool = True,
              log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train and score every preset on every factor pair of ``folder``; returns ``results``
    keyed ``"TF/preset"`` (also written to ``out/results.json`` and ``out/table.md``)."""
    configs = configs or PRESETS
    presets = presets or (DEFAULT_PRESET,)
    unknown = [p for p in presets if p not in configs]
    if unknown:
        raise InputError(f"unknown preset(s) {unknown}; choose from {sorted(configs)}")
    out = Path(out)
    results_file = out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    pairs = factor_pairs(folder)
    if tfs:  # in the order given
        pairs = [p for tf in tfs for p in pairs if p[0] == tf]
    for tf, ac, b in pairs:  # factor-major: a cut-short run still compares the presets on the same factors
        for name in presets:
            key = f"{tf}/{name}"
            run = out / "runs" / tf / name
            if key in results:  # finished; a re-run only adds a motif check it lacks
                if motif_check and not results[key].get("motif") and (run / "checkpoint").is_dir():
                    from ._motif_panel import motif_check_run

                    results[key]["motif"] = motif_check_run(run, b)
                    _write(out, results)
                continue
            cpu, wall = time.process_time(), time.perf_counter()
            res = train(read_tf_data(ac), configs[name], run, name=name, motif_check=False)
            row: dict[str, Any] = {"test": score_file(run, b, n_resamples=n_resamples)}
            row["cpu_s"] = round(time.process_time() - cpu, 1)
            row["wall_s"] = round(time.perf_counter() - wall, 1)
            row.update(validation_auroc=res.validation.get("auroc"), steps=res.steps,
                       best_step=res.best_step, train_records=res.summary["train_records"],
                       train_file=ac.name, test_file=b.name)
            if motif_check:
                from ._motif_panel import motif_check_run

                row["motif"] = motif_check_run(run, b)
            results[key] = row
            _write(out, results)
            if log is not None:
                t = row["test"]["auroc"]
                log(f"{key}: test auROC {t['value']:.3f} [{t['low']:.3f}, {t['high']:.3f}], "
                    f"{row['cpu_s']:.0f} CPU-s, {row['wall_s']:.0f} s")
    return results


def _write(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.json", json.dumps(results, indent=1, default=float) + "\n")
    atomic_write_text(out / "table.md", markdown_table(results))


def _cell(metric: dict[str, float]) -> str:
    return f"{metric['value']:.3f} [{metric['low']:.3f}, {metric['high']:.3f}]"


def markdown_table(results: dict[str, Any]) -> str:
    """Per-factor rows, one auROC / auPRC / CPU column group per preset, then mean and worst factor."""
    names = list(dict.fromkeys(k.split("/", 1)[1] for k in results if "/" in k and "test" in results[k]))
    tfs = sorted({k.split("/", 1)[0] for k in results if "/" in k and "test" in results[k]})
    head = ["TF"] + [f"{n} {m}" for n in names for m in ("auROC [95% CI]", "auPRC [95% CI]", "CPU s")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tf in tfs:
        cells = [tf]
        for n in names:
            r = results.get(f"{tf}/{n}")
            cells += ([_cell(r["test"]["auroc"]), _cell(r["test"]["auprc"]), f"{r['cpu_s']:.0f}"] if r else ["", "", ""])
        lines.append("| " + " | ".join(cells) + " |")
    for label, fn in (("mean", np.mean), ("worst", np.min)):
        cells = [f"**{label}**"]
        for n in names:
            rows = [results[f"{tf}/{n}"] for tf in tfs if f"{tf}/{n}" in results]
            au = fn([r["test"]["auroc"]["value"] for r in rows])
            pr = fn([r["test"]["auprc"]["value"] for r in rows])
            cpu = np.mean([r["cpu_s"] for r in rows]) if label == "mean" else np.max([r["cpu_s"] for r in rows])
            cells += [f"{au:.3f} ({len(rows)} TFs)", f"{pr:.3f}", f"{cpu:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    flags = [f"- {k}: {r['motif']['verdict']}" for k, r in sorted(results.items())
             if isinstance(r, dict) and r.get("motif")]
    if flags:
        lines += ["", "Motif check (top ISM windows of the most confident test positives vs a panel of known motifs):", *flags]
    return "\n".join(lines) + "\n"
