"""``biolens pretrain`` and ``biolens mutations`` (language-model tools; more under ``biolens lm``)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import err_console, input_path, on_invalid_option, quiet_option, show_progress

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
            err_console.print(line)
    result = pretrain([r.sequence for r in records], out, config, source=str(source), progress=show_progress(quiet))
    if not quiet:
        m = result.metrics
        resumed = f", resumed from step {result.resumed_from}" if result.resumed_from is not None else ""
        err_console.print(f"held out: loss {m['loss']:.4f}, perplexity {m['perplexity']:.2f}, "
                          f"masked-residue accuracy {m['accuracy']:.3f} ({m['masked']} masked residues)")
        err_console.print(f"[bold]wrote[/bold] {out} ({result.steps} steps{resumed}); use it as --encoder mlm:{out}")
    return 0


def register(group: click.Group) -> None:
    group.add_command(pretrain_command)
