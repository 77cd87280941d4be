"""The run report: held-out metrics next to 3Di, learning curves, settings, data summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.config import config_to_dict
from ..core.errors import InputError
from ..core.files import atomic_write_text
from ..report import Report, learning_curves
from ._training import load_run

__all__ = ["codebook_warning", "collapse_warning", "held_out_summary", "write_run_report"]

COLLAPSED_PERPLEXITY = 2.0  # codes effectively in use; below this the tokens carry almost nothing
COLLAPSED_USAGE = 0.10  # fraction of the codebook used at least once


def codebook_warning(metrics: dict[str, Any]) -> str | None:
    """A warning when a VQ codebook has collapsed (perplexity < 2 or usage < 10%), else ``None``."""
    perplexity, usage = metrics.get("perplexity"), metrics.get("codebook_usage")
    if perplexity is None or usage is None:
        return None
    if perplexity < COLLAPSED_PERPLEXITY or usage < COLLAPSED_USAGE:
        return (f"Warning: the codebook has collapsed (perplexity {perplexity:.2f}, {usage:.0%} of codes used): "
                "the tokens carry little information about the structure. Train longer, lower the commitment "
                "weight or use a smaller codebook.")
    return None


def collapse_warning(test: dict[str, Any] | None, validation: dict[str, Any] | None) -> str | None:
    """The run's :func:`codebook_warning`: on its held-out test metrics, or (no test file) on the
    kept model's validation metrics."""
    return codebook_warning(test) if test is not None else codebook_warning(validation or {})


def held_out_summary(test: dict[str, Any]) -> dict[str, Any]:
    """The few test metrics ``biolens structure train`` prints: rmsd, lddt, TM-score, codebook usage, 3Di's usage."""
    return {k: test.get(k) for k in ("rmsd", "lddt", "tm_score", "codebook_usage")} | {"3di_usage": test["3di"]["codebook_usage"]}


_KEYS = ("rmsd", "rmsd_median", "window_rmsd_32", "lddt", "tm_score", "codebook_usage", "perplexity", "bits_per_residue",
         "chains", "residues")


def write_run_report(run: str | Path, *, structures: str | Path, progress: bool = False) -> dict[str, Any] | None:
    """Evaluate the run on its held-out test files (``evaluation.json``) and write ``report.html``.
    Returns the test metrics (``None`` when the split has no test file).

    :func:`~biolens.structure.train_structure_model` calls it at the end of a run; call it
    again to rewrite the report of a trained run."""
    from ._run import evaluate_folder

    run = Path(run)
    _, _, config = load_run(run)
    try:
        result = evaluate_folder(run, _structures_path(structures), split="test", progress=progress)
    except InputError:  # no test file in this folder (small folders)
        result = None
    if result is not None:
        atomic_write_text(run / "evaluation.json", json.dumps(result, indent=2) + "\n")
    page = Report(f"structure tokenizer: {config.model.kind}, K = {config.model.codebook_size}")
    page.text("Backbone RMSD is measured after optimal superposition of each chain segment (Kabsch); lDDT on Cα "
              "within segments; window RMSD over 32-residue stretches; usage = fraction of codes used; "
              "perplexity = exp(entropy of code frequencies). 3Di: Foldseek's 20 states on the same chains.", note=True)
    kept = _kept_metrics(run)
    warning = collapse_warning(result, kept.get("best_metrics"))
    if warning is not None:
        page.banner(warning.removeprefix("Warning: "), title="Codebook collapse")
    if result is not None:
        rows = [{"tokens": f"{config.model.kind} (this run)", **{k: result.get(k) for k in _KEYS}},
                {"tokens": "Foldseek 3Di", **{k: result["3di"].get(k) for k in ("codebook_usage", "perplexity",
                                                                               "bits_per_residue")}}]
        page.heading("Held-out test files").table(rows, columns=["tokens", *_KEYS])
    page.heading("Training").figure(learning_curves(_history(run), best_step=kept.get("best_step")), caption="training loss (FAPE + residue-step error + commitment or KL) and validation FAPE (all frames), codebook use")
    data = json.loads((run / "data.json").read_text())
    page.heading("Data").text(f"{data['files']} files, {data['chains']} chains, {data['residues']} residues; "
                              f"{len(data['skipped'])} files skipped.")
    page.table([{"rule": k, "count": v} for k, v in sorted(data["totals"].items())], caption="reading rules applied")
    page.settings(config_to_dict(config))
    page.write(run / "report.html")
    return result


def _history(run: Path) -> list[dict[str, Any]]:
    """fit's log: ``train/metrics.jsonl`` (at the top of the folder in runs of an older biolens)."""
    path = run / "train" / "metrics.jsonl"
    if not path.exists():
        path = run / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _kept_metrics(run: Path) -> dict[str, Any]:
    """``best_step`` and ``best_metrics`` of the checkpoint's kept model (empty when not saved)."""
    meta = run / "checkpoint" / "meta.json"
    return json.loads(meta.read_text()) if meta.exists() else {}


def _structures_path(structures: str | Path) -> Path:
    from ..data import resolve_input

    return resolve_input(structures)
