"""``biolens embed``, ``biolens encoders`` and ``biolens samples``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ._common import (
    console,
    err_console,
    input_path,
    on_invalid_option,
    quiet_option,
    show_progress,
)

PathType = click.Path(path_type=Path)


@click.command("embed")
@click.argument("input")
@click.option("--out", "-o", type=PathType, required=True, help="Output .npz, .h5 or .parquet.")
@click.option("--encoder", "-e", default="unirep-64", show_default=True, help="Encoder name (see `biolens encoders`).")
@click.option("--pooling", default="mean", show_default=True, help="mean, max, cls, mean+max, or an encoder's own summary.")
@click.option("--per-residue", is_flag=True, help="Write per-residue states instead of pooled vectors.")
@on_invalid_option
@click.option("--layer", type=int, default=None, help="Which layer's states (default: the last).")
@click.option("--weights", type=PathType, default=None, help="Local weights file or folder for the encoder.")
@click.option("--cache", type=PathType, default=None, help="Embedding store (default: $BIOLENS_CACHE or ~/.cache/biolens).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the embedding store.")
@click.option("--token-budget", type=int, default=None, help="Padded tokens per batch (default: the encoder's).")
@click.option("--overlap", type=int, default=256, show_default=True, help="Residues shared by windows of over-long proteins.")
@click.option("--dedupe", is_flag=True, help="Keep the first of records that repeat an id with the same sequence.")
@click.option("--sequence-column", default=None, help="CSV/TSV column holding sequences.")
@click.option("--id-column", default=None, help="CSV/TSV column holding ids (default: id/name/..., else row numbers).")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: a Ray cluster, shards beside the store (docs/scale.md).")
@click.option("--address", default=None, help="Ray cluster: auto or HOST:PORT (default: start one here).")
@quiet_option
def embed_command(input, out, encoder, pooling, per_residue, on_invalid, layer, weights, cache, no_cache,
                  token_budget, overlap, dedupe, sequence_column, id_column, backend, address, quiet) -> int:
    """Embed proteins from INPUT (FASTA, CSV/TSV, .gz, or sample:NAME), cache and export them."""
    import numpy as np

    from ..core.alphabets import PROTEIN
    from ..core.errors import InputError
    from ..core.export import EXPORT_FORMATS, export_embeddings
    from ..core.seqio import check_unique_ids, load_sequences
    from ..core.store import EmbeddingStore, default_store_path
    from ..proteins.embed import embed_sequences
    from ..proteins.encoders.registry import get_encoder

    if out.suffix.lower() not in EXPORT_FORMATS:
        raise InputError(f"--out must end in one of {EXPORT_FORMATS}, got {out.name!r}")
    source = input_path(input)
    if backend == "ray":
        from ..distributed import export_file_ray

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
    enc = get_encoder(encoder, layer=layer, weights=weights)
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


@click.command("encoders")
def encoders_command() -> int:
    """List encoders: width, whether they can run here, and how to get their weights."""
    from ..proteins.encoders.registry import list_encoders

    table = Table(title="biolens encoders")
    for col in ("name", "width", "here", "description", "weights licence; how to get"):
        table.add_column(col)
    for entry, ok, how in list_encoders():
        name = entry.name if entry.width is not None else f"{entry.name}:PATH"
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
