"""``biolens structure``: train a backbone tokenizer, evaluate it, tokenize files, decode tokens."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from ._common import err_console, input_path, quiet_option, show_progress

PathType = click.Path(path_type=Path)


@click.group("structure")
def structure_group() -> None:
    """Structure tokens: a VQ-VAE (or Gaussian VAE) over protein backbones, next to Foldseek's 3Di."""


@structure_group.command("train")
@click.option("--structures", required=True, help="Folder of PDB/mmCIF files (.gz too; *.lst chain lists), or sample:structures.")
@click.option("--out", "-o", type=PathType, required=True, help="Run folder (the same settings and files resume a killed run; a finished one is returned).")
@click.option("--preset", type=click.Choice(["default", "short", "small", "tiny"]), default="default", show_default=True,
              help="default: K = 256, 18,000 steps on 256-residue crops (about 38 CPU-minutes); short: the same "
                   "over 6,000 steps (about 13 CPU-minutes); small: K = 64, 1,500 steps on 128-residue crops "
                   "(about 5 CPU-minutes); tiny: seconds.")
@click.option("--model", "kind", type=click.Choice(["vqvae", "vae", "3di"]), default=None,
              help="vqvae (tokens), vae (Gaussian latents), 3di (our decoder on Foldseek 3Di states). Default: vqvae.")
@click.option("--codebook-size", "-k", type=int, default=None, help="Codebook size K (default: the preset's, 256).")
@click.option("--decoder", type=click.Choice(["chain", "global"]), default=None,
              help="chain: residue-to-residue steps, chained (default); global: every frame at once (needs --attention-layers).")
@click.option("--attention-layers", type=int, default=None,
              help="Transformer blocks after the decoder's convolutions (whole-segment context; default 0).")
@click.option("--max-steps", type=int, default=None, help="Training steps (default: the preset's).")
@click.option("--seed", type=int, default=None, help="Initialisation and batching seed.")
@click.option("--on-invalid", type=click.Choice(["skip", "error"]), default="skip", show_default=True,
              help="Files that cannot be used (no protein chain, CA-only, ...): skip them (listed in the summary) or stop.")
@quiet_option
def train_command(structures, out, preset, kind, codebook_size, decoder, attention_layers, max_steps, seed, on_invalid,
                  quiet) -> int:
    """Train a structure tokenizer on the files in --structures (held-out test split kept aside)."""
    from ..report import metrics_text
    from ..structure import PRESETS, held_out_summary, train_structure_model

    config = PRESETS[preset]
    model_changes = {k: v for k, v in {"kind": kind, "codebook_size": codebook_size, "decoder": decoder,
                                       "attention_layers": attention_layers}.items() if v is not None}
    train_changes = {k: v for k, v in {"max_steps": max_steps, "seed": seed}.items() if v is not None}
    try:
        config = replace(config, model=replace(config.model, **model_changes), train=replace(config.train, **train_changes))
    except ValueError as exc:  # settings that do not go together, named by ModelConfig
        raise click.UsageError(str(exc)) from None
    result = train_structure_model(input_path(structures), out, config, on_invalid=on_invalid,
                                   progress=show_progress(quiet), log=None if quiet else err_console.print)
    if not quiet:
        err_console.print(f"trained {result.model_kind} in {result.steps} steps ({result.seconds:.0f} s); "
                          f"best validation: {metrics_text(result.validation)}", markup=False)
        err_console.print(f"held-out test: {metrics_text(held_out_summary(result.test))}" if result.test
                          else "no held-out test files", markup=False)
        if result.warning:
            err_console.print(result.warning, style="bold yellow", markup=False)
        err_console.print(f"wrote {out / 'checkpoint'} and {out / 'report.html'}")
    return 0


@structure_group.command("evaluate")
@click.argument("run", type=PathType)
@click.option("--structures", required=True, help="Folder of PDB/mmCIF files, or sample:structures.")
@click.option("--split", type=click.Choice(["all", "train", "val", "test"]), default=None,
              help="Only the files of this split (the run's split.json, else a hash of path and the run's split seed). "
                   "Default: test (the files the run held out) on the run's own folder; all on a folder the run "
                   "never saw.")
@click.option("--no-3di", is_flag=True, help="Leave out Foldseek 3Di statistics on the same chains.")
@click.option("--on-invalid", type=click.Choice(["skip", "error"]), default="skip", show_default=True)
@quiet_option
def evaluate_command(run, structures, split, no_3di, on_invalid, quiet) -> int:
    """Print JSON metrics of RUN on the chains in --structures (by default its held-out test files):
    rmsd (mean backbone RMSD, Å), codebook_usage, perplexity, lddt, and 3Di's usage and perplexity
    on the same chains."""
    from ..structure import evaluate_folder

    result = evaluate_folder(run, input_path(structures), split=split, threedi=not no_3di,
                             on_invalid=on_invalid, progress=show_progress(quiet), log=None if quiet else err_console.print)
    click.echo(json.dumps(result, indent=2))
    return 0


@structure_group.command("tokenize")
@click.argument("run", type=PathType)
@click.argument("file")
@click.option("--chain", default=None, help="Author chain name (default: every protein chain).")
def tokenize_command(run, file, chain) -> int:
    """Print the token string of each protein chain of FILE (PDB/mmCIF, .gz too): a header
    line '>ENTRY_CHAIN' then token ids separated by spaces, '/' at chain breaks."""
    from ..structure import tokenize_file

    for header, tokens in tokenize_file(run, input_path(file), chain=chain):
        click.echo(f">{header}\n{tokens}")
    return 0


@structure_group.command("decode")
@click.argument("run", type=PathType)
@click.argument("tokens")
@click.option("--out", "-o", type=PathType, default=None, help="PDB or mmCIF file to write (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["pdb", "cif"]), default=None,
              help="Output format (default: cif for an --out ending .cif/.mmcif, else pdb). PDB refuses chains "
                   "past its columns (coordinates beyond 9999.999 Å, > 9,999 residues, > 99,999 atoms).")
@click.option("--reference", default=None,
              help="The structure file the tokens came from: each decoded chain is superposed on its chain "
                   "(records '>ENTRY_CHAIN' as tokenize writes them), the B-factor column holds each residue's "
                   "backbone RMSD to it (Å), and RMSD, lDDT and TM-score per chain go to standard error.")
@click.option("--chain", default=None, help="With --reference: only this chain of the reference.")
def decode_command(run, tokens, out, fmt, reference, chain) -> int:
    """Decode token strings into a backbone PDB or mmCIF (N, CA, C, O; residues named UNK). TOKENS is a
    file written by `tokenize` ('-' for standard input) or the token ids themselves."""
    from ..structure import decode_against, decode_text

    if fmt is None:
        fmt = "cif" if out is not None and str(out).lower().endswith((".cif", ".mmcif")) else "pdb"
    if chain is not None and reference is None:
        raise click.UsageError("--chain picks a chain of --reference; give --reference FILE")
    text, source = _token_text(tokens)
    if reference is None:
        pdb = decode_text(run, text, source=source, fmt=fmt)
    else:
        pdb, metrics = decode_against(run, text, input_path(reference), chain=chain, source=source, fmt=fmt)
        for m in metrics:
            err_console.print(f"{m['chain']} on {m['reference']}: RMSD {m['rmsd']:.2f} Å, lDDT {m['lddt']:.3f}, "
                              f"TM-score {m['tm_score']:.3f} ({m['residues']} residues)", markup=False)
    if out is None:
        click.echo(pdb, nl=False)
    else:
        from ..core.files import atomic_write_text

        atomic_write_text(out, pdb)
        err_console.print(f"wrote {out}")
    return 0


def _token_text(tokens: str) -> tuple[str, str]:
    from ..core.errors import InputError

    if tokens == "-":
        return sys.stdin.read(), "<stdin>"
    if all(ch.isdigit() or ch.isspace() or ch == "/" for ch in tokens):
        return tokens, "tokens"
    path = Path(tokens)
    if not path.is_file():
        raise InputError("neither a file nor token ids (digits, spaces and '/')", source=tokens)
    return path.read_text(), str(path)


def register(group: click.Group) -> None:
    group.add_command(structure_group)
