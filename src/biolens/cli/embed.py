"""``biolens embed``, ``biolens encoders`` and ``biolens samples``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ._common import (
    GreedyOption,
    console,
    err_console,
    input_path,
    is_integer,
    on_invalid_option,
    quiet_option,
    show_progress,
)

_INCLUDE_WORDS = ("mean", "per_tok", "bos", "contacts")

PathType = click.Path(path_type=Path)


@click.command("embed")
@click.argument("input")
@click.option("--out", "-o", type=PathType, default=None, help="Output .npz, .h5 or .parquet.")
@click.option("--out-dir", "--output-dir", "out_dir", type=PathType, default=None,
              help="One .npz per protein, named by id (esm extract.py style; with --repr-layers/--include).")
@click.option("--repr-layers", "--repr_layers", "repr_layers", cls=GreedyOption, accepts=is_integer, type=int,
              help="--out-dir: layers to write, several at once (-1: last; 0: embeddings).")
@click.option("--include", "include", cls=GreedyOption, accepts=_INCLUDE_WORDS.__contains__,
              help="--out-dir: views to write, several at once: mean per_tok bos.  [default: mean]")
@click.option("--encoder", "-e", default="unirep-64", show_default=True, help="Encoder name (see `biolens encoders`).")
@click.option("--pooling", default="mean", show_default=True, help="mean, max, cls, mean+max, or an encoder's own summary.")
@click.option("--per-residue", is_flag=True, help="Write per-residue states instead of pooled vectors.")
@on_invalid_option
@click.option("--layer", type=int, default=None, help="Which layer's states (default: the last).")
@click.option("--weights", type=PathType, default=None, help="Local weights file or folder for the encoder.")
@click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default=None,
              help="Compute dtype of the transformer encoders (esm2, esmc, prott5; bfloat16 on accelerators); embeddings are float32.")
@click.option("--cache", type=PathType, default=None, help="Embedding store (default: $BIOLENS_CACHE or ~/.cache/biolens).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the embedding store.")
@click.option("--token-budget", "--toks-per-batch", "--toks_per_batch", "token_budget", type=int, default=None,
              help="Padded tokens per batch (default: the encoder's).")
@click.option("--overlap", type=int, default=256, show_default=True, help="Residues shared by windows of over-long proteins.")
@click.option("--dedupe", is_flag=True, help="Keep the first of records that repeat an id with the same sequence.")
@click.option("--sequence-column", default=None, help="CSV/TSV column holding sequences.")
@click.option("--id-column", default=None, help="CSV/TSV column holding ids (default: id/name/..., else row numbers).")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: a Ray cluster, shards beside the store (docs/scale.md).")
@click.option("--address", default=None, help="Ray cluster: auto or HOST:PORT (default: start one here).")
@quiet_option
def embed_command(input, out, out_dir, repr_layers, include, encoder, pooling, per_residue, on_invalid, layer, weights,
                  dtype, cache, no_cache, token_budget, overlap, dedupe, sequence_column, id_column, backend, address,
                  quiet) -> int:
    """Embed proteins from INPUT (FASTA, CSV/TSV, .gz, or sample:NAME), cache and export them.

    With --out-dir, write one .npz per protein as esm's extract.py does:
    `biolens embed seqs.fasta -e esm2-8m --out-dir DIR --repr-layers 0 -1 --include mean per_tok bos`.
    """
    import numpy as np

    from ..core.alphabets import PROTEIN
    from ..core.errors import InputError
    from ..core.export import EXPORT_FORMATS, export_embeddings
    from ..core.files import check_free_space, check_output
    from ..core.seqio import check_unique_ids, load_sequences
    from ..core.store import EmbeddingStore, default_store_path
    from ..proteins.embed import embed_sequences
    from ..proteins.encoders import get_encoder, pooled_width

    if (out is None) == (out_dir is None):
        raise InputError("give one of --out FILE (one file for all proteins) or --out-dir DIR (one file each)")
    if out_dir is None and (repr_layers or include):
        raise InputError("--repr-layers and --include write one file per protein: use them with --out-dir")
    if out is not None and out.suffix.lower() not in EXPORT_FORMATS:
        raise InputError(f"--out must end in one of {EXPORT_FORMATS}, got {out.name!r}")
    if out is not None:  # before any work: a folder, a read-only place
        check_output(out, "--out file")
    else:
        check_output(out_dir, "--out-dir folder", folder=True)
    source = input_path(input)
    if out_dir is not None:
        if backend != "local" or per_residue or layer is not None or dtype is not None:
            raise InputError("--out-dir runs on the local backend in float32 and takes --repr-layers/--include "
                             "instead of --layer/--per-residue")
        return _extract(source, out_dir, encoder, repr_layers, include or ("mean",), weights=weights,
                        on_invalid=on_invalid.lower(), cache=cache, no_cache=no_cache, token_budget=token_budget,
                        dedupe=dedupe, sequence_column=sequence_column, id_column=id_column, quiet=quiet)
    if backend == "ray":
        from ..distributed import export_file_ray

        if dtype not in (None, "float32"):
            raise InputError("--dtype is not passed to Ray workers yet; embed with --backend local")
        result, shards = export_file_ray(
            source, out, encoder, pooling=pooling, per_residue=per_residue, on_invalid=on_invalid.lower(), layer=layer,
            weights=weights, cache=cache, no_cache=no_cache, token_budget=token_budget, overlap=overlap, dedupe=dedupe,
            sequence_column=sequence_column, id_column=id_column, address=address)
        if not quiet:
            lines = result.report.lines() + ([f"duplicate ids dropped: {result.dropped}"] if result.dropped else [])
            for line in lines + result.lines() + ([f"shards: {shards}"] if shards else []):
                err_console.print(line)
            err_console.print(f"[bold]wrote[/bold] {out}: {len(result.ids)} proteins, {encoder}, ray backend")
        return 0
    records, report = load_sequences(
        source, PROTEIN, on_invalid=on_invalid.lower(), sequence_column=sequence_column, id_column=id_column
    )
    records, dropped = check_unique_ids(records, dedupe=dedupe, source=str(source))
    enc = get_encoder(encoder, layer=layer, weights=weights, dtype=None if dtype == "float32" else dtype)
    values = sum(len(r.sequence) for r in records) * enc.width if per_residue else len(records) * pooled_width(enc, pooling)
    check_free_space(out, 4 * values, "--out file")  # float32, before any embedding work
    store = None if no_cache else EmbeddingStore(cache or default_store_path())
    try:
        arrays, stats = embed_sequences(
            [r.sequence for r in records], enc, pooling=pooling, per_residue=per_residue,
            store=store, token_budget=token_budget, overlap=overlap, progress=show_progress(quiet),
        )
    finally:
        if store is not None:
            store.close()
    export_embeddings(out, [r.id for r in records], arrays if per_residue else np.stack(arrays),
                      metadata=enc.export_metadata(pooling, per_residue))
    if not quiet:
        for line in report.lines() + ([f"duplicate ids dropped: {dropped}"] if dropped else []) + stats.lines():
            err_console.print(line, markup=False)
        what = "per-residue states" if per_residue else f"{pooling} pooling, width {arrays[0].shape[-1]}"
        err_console.print(f"[bold]wrote[/bold] {out}: {len(arrays)} proteins, {enc.name}, {what}")
    return 0


def _extract(source: Path, out_dir: Path, encoder: str, layers: tuple[int, ...] | None, include: tuple[str, ...], *,
             weights: Path | None, on_invalid: str, cache: Path | None, no_cache: bool, token_budget: int | None,
             dedupe: bool, sequence_column: str | None, id_column: str | None, quiet: bool) -> int:
    from ..core.alphabets import PROTEIN
    from ..core.seqio import check_unique_ids, load_sequences
    from ..core.store import EmbeddingStore, default_store_path
    from ..proteins.embed import extract

    records, report = load_sequences(source, PROTEIN, on_invalid=on_invalid, sequence_column=sequence_column,
                                     id_column=id_column)
    records, dropped = check_unique_ids(records, dedupe=dedupe, source=str(source))
    options = {"weights": weights} if weights else {}
    store = None if no_cache else EmbeddingStore(cache or default_store_path())
    try:
        result = extract(records, encoder, out_dir, layers=layers, include=include, store=store,
                         token_budget=token_budget, progress=show_progress(quiet), source=str(source), **options)
    finally:
        if store is not None:
            store.close()
    if not quiet:
        for line in report.lines() + ([f"duplicate ids dropped: {dropped}"] if dropped else []):
            err_console.print(line, markup=False)
        computed = sum(s.computed for s in result.stats)
        err_console.print(f"[bold]wrote[/bold] {len(result.files)} files to {escape(str(out_dir))}: layers "
                          f"{', '.join(map(str, result.layers))}; {' '.join(include)}; computed {computed} embeddings")
    return 0


@click.command("encoders")
def encoders_command() -> int:
    """List encoders: width, whether they can run here, and how to get their weights."""
    from ..proteins.encoders import hf_aliases, list_encoders

    table = Table(title="biolens encoders (a Hugging Face id under the name is the same encoder)")
    for col in ("name", "width", "here", "description", "weights licence; how to get"):
        table.add_column(col)
    for entry, ok, how in list_encoders():
        name = "\n".join([entry.name if entry.width is not None else f"{entry.name}:PATH", *hf_aliases(entry.name)])
        table.add_row(*map(escape, (name, str(entry.width or "-"), "yes" if ok else "no", entry.description, f"{entry.license}; {how}")))
    console.print(table)
    return 0


@click.command("samples")
def samples_command() -> int:
    """List the data samples shipped with biolens (use them as sample:NAME)."""
    from ..data import SAMPLES, sample_path

    table = Table(title="shipped samples (use as sample:NAME)")
    for col in ("name", "description", "source", "licence", "file"):
        table.add_column(col)
    for s in SAMPLES.values():
        table.add_row(s.name, s.description, s.source, s.license, str(sample_path(s.name)))
    console.print(table)
    return 0


def register(group: click.Group) -> None:
    for command in (embed_command, encoders_command, samples_command):
        group.add_command(command)
