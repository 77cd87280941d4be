"""``biolens pretrain`` and ``biolens mutations`` (language-model tools; more under ``biolens lm``)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (
    alias,
    err_console,
    input_path,
    on_invalid_option,
    protein_argument,
    quiet_option,
    show_progress,
)
from .lm_tools import lm_group

PathType = click.Path(path_type=Path)


@click.command("pretrain")
@click.argument("corpus")
@click.option("--out", "-o", type=PathType, required=True, help="Run folder (rerun the same command to resume a killed run).")
@click.option("--steps", type=int, default=2000, show_default=True, help="Optimisation steps.")
@click.option("--size", "preset", type=click.Choice(["tiny", "small", "base"]), default="small", show_default=True,
              help="Model size: tiny 2x64, small 4x128, base 6x320 (layers x hidden; ESM2-8M's shape).")
@click.option("--layers", type=int, default=None, help="Override the size's number of layers.")
@click.option("--hidden", type=int, default=None, help="Override the size's hidden width.")
@click.option("--heads", type=int, default=None, help="Override the size's attention heads.")
@click.option("--ffn", type=int, default=None, help="Override the size's feed-forward width.")
@click.option("--lr", type=float, default=2e-3, show_default=True, help="Peak learning rate (warm-up, then cosine decay).")
@click.option("--token-budget", type=int, default=8192, show_default=True, help="Padded tokens per batch.")
@click.option("--crop", type=int, default=254, show_default=True, help="Longest window of a protein one step sees.")
@click.option("--eval-every", type=int, default=250, show_default=True, help="Steps between held-out evaluations.")
@click.option("--valid-fraction", type=float, default=0.05, show_default=True, help="Share of the corpus held out (at most 500).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sequence-column", default=None, help="CSV/TSV column holding sequences.")
@on_invalid_option
@quiet_option
def pretrain_command(corpus, out, steps, preset, layers, hidden, heads, ffn, lr, token_budget, crop, eval_every,
                     valid_fraction, seed, sequence_column, on_invalid, quiet) -> int:
    """Pretrain an ESM2-architecture masked LM on CORPUS (FASTA/CSV); use it as --encoder mlm:OUT."""
    from ..core.alphabets import PROTEIN
    from ..core.seqio import load_sequences
    from ..proteins.pretrain import PretrainConfig, pretrain

    source = input_path(corpus)
    records, report = load_sequences(source, PROTEIN, on_invalid=on_invalid.lower(), sequence_column=sequence_column)
    config = PretrainConfig(preset=preset, layers=layers, hidden=hidden, heads=heads, ffn=ffn, steps=steps,
                            learning_rate=lr, token_budget=token_budget, crop=crop, eval_every=eval_every,
                            valid_fraction=valid_fraction, seed=seed)
    if not quiet:
        for line in report.lines():
            err_console.print(line, markup=False)
    result = pretrain([r.sequence for r in records], out, config, source=str(source), progress=show_progress(quiet))
    if not quiet:
        m = result.metrics
        resumed = f", resumed from step {result.resumed_from}" if result.resumed_from is not None else ""
        if "perplexity" in m:
            err_console.print(f"held out: loss {m['loss']:.4f}, perplexity {m['perplexity']:.2f}, "
                              f"masked-residue accuracy {m['accuracy']:.3f} ({m['masked']} masked residues)")
        else:
            err_console.print("no held-out set (--valid-fraction 0): no validation metrics")
        err_console.print(f"[bold]wrote[/bold] {out} ({result.steps} steps{resumed}); use it as --encoder mlm:{out}")
    return 0


@click.command("mutations")
@click.option("--encoder", "-e", required=True, help="A language model: esm2-*, esm2:DIR, mlm:RUN, or unirep-* (llr).")
@click.option("--sequence", "wild_type", required=True, help="The wild type: letters, or a FASTA file (first record).")
@click.option("--variants", type=PathType, default=None,
              help="CSV/TSV of variants: a 'sequence' column (full mutants) or mutation codes (A24G:D40N) in a "
                   "'mutant'/'mutations'/'variant' column.")
@click.option("--column", default=None, help="The variants' column (default: found by name).")
@click.option("--out", "-o", type=PathType, default=None, help="Scores CSV: the variants' columns + mutations, score.")
@click.option("--method", type=click.Choice(["masked-marginal", "wt-marginal", "llr"]), default=None,
              help="Default: masked-marginal (masked LMs), llr (UniRep).")
@click.option("--dms", type=PathType, default=None, help="Also score every single substitution: a heat map (.png) "
              "and its table beside it (.csv).")
@click.option("--weights", type=PathType, default=None, help="Local weights for the encoder.")
@quiet_option
def mutations_command(encoder, wild_type, variants, column, out, method, dms, weights, quiet) -> int:
    """Score mutations of a protein zero-shot with a protein language model."""
    from ..core.errors import InputError
    from ..proteins.language_model import language_model
    from ..proteins.mutations import check_method, read_variants, score_variants

    if variants is None and dms is None:
        raise InputError("give --variants FILE (with --out) and/or --dms FIGURE.png")
    if variants is not None and out is None:
        raise InputError("--variants needs --out SCORES.csv")
    wt = protein_argument(wild_type)
    lm = language_model(encoder, weights=weights)
    method = check_method(lm, method)
    if variants is not None:
        table = read_variants(variants, wt, column=column)
        scores = score_variants(lm, wt, table, method)
        _write_scores(out, table, scores, method)
        if not quiet:
            err_console.print(f"[bold]wrote[/bold] {out}: {len(scores)} variants scored ({lm.name}, {method})")
    if dms is not None:
        _write_dms(dms, lm, wt, method)
        if not quiet:
            err_console.print(f"[bold]wrote[/bold] {dms} and {dms.with_suffix('.csv')}: {len(wt)} x 20 substitutions")
    return 0


def _write_scores(out: Path, table, scores, method: str) -> None:
    import csv
    import io

    from ..core.files import atomic_write_text

    buf = io.StringIO()
    columns = [c for c in table.columns if c not in ("mutations", "score")] + ["mutations", "score"]
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row, muts, score in zip(table.rows, table.mutations, scores, strict=True):
        codes = ":".join(map(str, muts)) if muts is not None else ""
        writer.writerow({**row, "mutations": codes or ("WT" if muts is not None else ""), "score": f"{score:.6g}"})
    atomic_write_text(out, buf.getvalue())


def _write_dms(path: Path, lm, wt: str, method: str) -> None:
    from ..core.files import atomic_write_text
    from ..proteins.language_model import AMINO_ACIDS
    from ..proteins.mutations import dms_figure, dms_scores

    scores = dms_scores(lm, wt, method)
    rows = ["position,wild_type," + ",".join(AMINO_ACIDS)]
    rows += [f"{i + 1},{wt[i]}," + ",".join(f"{v:.5g}" for v in scores[i]) for i in range(len(wt))]
    atomic_write_text(path.with_suffix(".csv"), "\n".join(rows) + "\n")
    dms_figure(scores, wt, title=f"{lm.name}: {method} scores of every substitution").savefig(path, dpi=110)


def register(group: click.Group) -> None:
    group.add_command(lm_group)
    for command in (pretrain_command, mutations_command):
        lm_group.add_command(command)
        group.add_command(alias(command, f"lm {command.name}"))
