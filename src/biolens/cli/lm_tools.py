"""``biolens lm ...``: masked-residue probabilities, token and protein maps, annotation transfer."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (
    err_console,
    input_path,
    on_invalid_option,
    protein_argument,
    quiet_option,
    show_progress,
)

PathType = click.Path(path_type=Path)
MAP_METHODS = click.Choice(["tsne", "umap", "pca"])
LABEL_TASKS = ["localization", "membrane", "solubility", "binary", "multiclass", "auto"]


@click.group("lm")
def lm_group() -> None:
    """Language-model tools: residue probabilities, token and protein maps, annotation transfer."""


def _positions(text: str, length: int) -> list[int]:
    from ..core.errors import InputError

    if text.strip().lower() == "all":
        return list(range(length))
    try:
        return [int(p) - 1 for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise InputError(f"--positions takes 1-based positions like 5,17,40 or 'all', got {text!r}") from None


@lm_group.command("probs")
@click.option("--encoder", "-e", required=True, help="esm2-*, esm2:DIR, mlm:RUN (masked) or unirep-* (next residue).")
@click.option("--sequence", required=True, help="A protein: letters, or a FASTA file (first record).")
@click.option("--positions", default="all", show_default=True, help="1-based positions (comma-separated) or all.")
@click.option("--out", "-o", type=PathType, required=True, help="CSV: position, residue, p_A ... p_Y, top, rank of the true residue.")
@click.option("--figure", type=PathType, default=None, help="Bar charts over the alphabet, true residue marked (.png).")
@click.option("--weights", type=PathType, default=None, help="Local weights for the encoder.")
@quiet_option
def probs_command(encoder, sequence, positions, out, figure, weights, quiet) -> int:
    """Amino-acid probabilities at chosen positions: each masked on its own (masked LMs), or given
    the residues before it (UniRep)."""
    import numpy as np

    from ..core.files import atomic_write_text
    from ..proteins.lm import AMINO_ACIDS, language_model, probability_figure, residue_log_probs

    seq = protein_argument(sequence)
    lm = language_model(encoder, weights=weights)
    pos = _positions(positions, len(seq))
    probs = np.exp(residue_log_probs(lm, seq, pos))
    rows = ["position,residue," + ",".join(f"p_{a}" for a in AMINO_ACIDS) + ",top,rank_true"]
    hits = 0
    for p, row in zip(pos, probs, strict=True):
        order = list(np.argsort(-row))
        true = AMINO_ACIDS.find(seq[p])
        rank = order.index(true) + 1 if true >= 0 else ""
        hits += rank == 1
        rows.append(f"{p + 1},{seq[p]}," + ",".join(f"{v:.5f}" for v in row) + f",{AMINO_ACIDS[order[0]]},{rank}")
    atomic_write_text(out, "\n".join(rows) + "\n")
    if figure is not None:
        shown = pos[:24]
        probability_figure(probs[: len(shown)], seq, shown, title=f"{lm.name} ({lm.kind})").savefig(figure, dpi=110)
    if not quiet:
        what = "masked one at a time" if lm.kind == "masked" else "next residue given the residues before"
        err_console.print(f"{lm.name}: {what}; the true residue is the top prediction at {hits}/{len(pos)} positions")
        err_console.print(f"[bold]wrote[/bold] {out}" + (f" and {figure}" if figure else ""))
    return 0


@lm_group.command("token-map")
@click.option("--encoder", "-e", required=True, help="esm2-*, esm2:DIR, mlm:RUN or unirep-*.")
@click.option("--out", "-o", type=PathType, required=True, help="Figure (.png); the coordinates go beside it (.csv).")
@click.option("--method", type=MAP_METHODS, default="tsne", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--weights", type=PathType, default=None, help="Local weights for the encoder.")
@quiet_option
def token_map_command(encoder, out, method, seed, weights, quiet) -> int:
    """The encoder's input token embeddings in 2-D, coloured by amino-acid property group."""
    from ..core.files import atomic_write_text
    from ..proteins.encoders import get_encoder
    from ..proteins.lm import token_map

    result = token_map(get_encoder(encoder, weights=weights), method=method, seed=seed)
    result.figure.savefig(out, dpi=130)
    lines = ["token,group,x,y"] + [f'"{n}",{g},{x:.5f},{y:.5f}' for n, g, (x, y) in
                                   zip(result.names, result.labels, result.coords, strict=True)]
    atomic_write_text(out.with_suffix(".csv"), "\n".join(lines) + "\n")
    if not quiet:
        err_console.print(f"[bold]wrote[/bold] {out} and {out.with_suffix('.csv')}: {len(result.names)} tokens")
    return 0


def _labelled(data: str, task: str, sequence_column, label_column, on_invalid):
    from ..core.errors import InputError
    from ..proteins.tasks import load_task

    options = {"on_invalid": on_invalid.lower()}
    if task in ("binary", "multiclass", "auto"):
        options.update(sequence_column=sequence_column, label_columns=(label_column,) if label_column else None)
    loaded = load_task(task, input_path(data), **options)
    if not loaded.task.spec.record_classes:
        raise InputError(f"a map or transfer needs one class per protein; {data} gives a {loaded.task.kind} task")
    names = loaded.task.label_names
    return loaded, [names[int(y)] for y in loaded.labels]


def _embed(sequences, encoder, pooling, weights, cache, quiet):
    import numpy as np

    from ..proteins.embed import embed_sequences, open_store
    from ..proteins.encoders import get_encoder

    enc = get_encoder(encoder, weights=weights)
    store = open_store(cache or True)
    try:
        arrays, _ = embed_sequences(sequences, enc, pooling=pooling, store=store, progress=show_progress(quiet))
    finally:
        if store is not None:
            store.close()
    return enc, np.stack(arrays)


def _data_options(f):
    for option in reversed([
        click.option("--task", type=click.Choice(LABEL_TASKS), default="auto", show_default=True,
                     help="Loader of the labelled file (localization/membrane: DeepLoc FASTA)."),
        click.option("--encoder", "-e", default="unirep-64", show_default=True),
        click.option("--pooling", default="mean", show_default=True),
        click.option("--sequence-column", default=None), click.option("--label-column", default=None),
        click.option("--weights", type=PathType, default=None), click.option("--cache", type=PathType, default=None),
        on_invalid_option, quiet_option,
    ]):
        f = option(f)
    return f


@lm_group.command("protein-map")
@click.argument("data")
@click.option("--out", "-o", type=PathType, required=True, help="Interactive page (.html); a figure goes beside it (.png).")
@click.option("--method", type=MAP_METHODS, default="tsne", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_data_options
def protein_map_command(data, out, method, seed, task, encoder, pooling, sequence_column, label_column, weights, cache,
                        on_invalid, quiet) -> int:
    """Pooled embeddings of labelled proteins (DATA) in 2-D, coloured by label; hover for id, label, length."""
    from ..proteins.lm import protein_map
    from ..report import Report

    loaded, labels = _labelled(data, task, sequence_column, label_column, on_invalid)
    enc, x = _embed(loaded.sequences, encoder, pooling, weights, cache, quiet)
    title = f"{loaded.task.name}: {enc.name} ({pooling} pooling, {method})"
    result = protein_map(x, labels, loaded.ids, [len(s) for s in loaded.sequences], method=method, seed=seed, title=title)
    page = Report(title).text("Hover over a point for its id, label and length.", note=True).raw(result.svg)
    page.settings({"data": loaded.source, "encoder": enc.name, "fingerprint": enc.fingerprint(), "seed": seed})
    page.write(out)
    result.figure.savefig(out.with_suffix(".png"), dpi=120)
    if not quiet:
        err_console.print(f"[bold]wrote[/bold] {out} and {out.with_suffix('.png')}: {len(labels)} proteins")
    return 0


@lm_group.command("transfer")
@click.argument("query")
@click.option("--reference", required=True, help="Labelled proteins whose labels are transferred (file or sample:NAME).")
@click.option("--out", "-o", type=PathType, required=True, help="CSV: id, prediction, support, then neighbour/label/distance per rank.")
@click.option("--k", type=int, default=5, show_default=True)
@click.option("--metric", type=click.Choice(["cosine", "euclidean"]), default="cosine", show_default=True)
@_data_options
def transfer_command(query, reference, out, k, metric, task, encoder, pooling, sequence_column, label_column, weights,
                     cache, on_invalid, quiet) -> int:
    """Label QUERY proteins by their k nearest labelled neighbours (--reference) in embedding space.

    Embeddings are standardised with the reference set's mean and spread (as the knn head does)."""
    import numpy as np

    from ..core.alphabets import PROTEIN
    from ..core.files import atomic_write_text
    from ..core.seqio import load_sequences
    from ..proteins.supervised import transfer_annotations

    loaded, labels = _labelled(reference, task, sequence_column, label_column, on_invalid)
    records, _ = load_sequences(input_path(query), PROTEIN, on_invalid=on_invalid.lower(), sequence_column=sequence_column)
    enc, ref = _embed(loaded.sequences, encoder, pooling, weights, cache, quiet)
    _, qx = _embed([r.sequence for r in records], encoder, pooling, weights, cache, quiet)
    shift, scale = ref.mean(0), np.where(ref.std(0) > 1e-6, ref.std(0), 1.0)
    found = transfer_annotations((qx - shift) / scale, (ref - shift) / scale, labels, k=k, metric=metric)
    head = ["id", "prediction", "support"] + [f"{c}_{j}" for j in range(1, k + 1) for c in ("neighbour", "label", "distance")]
    lines = [",".join(head)]
    for rec, f in zip(records, found, strict=True):
        cells = [rec.id, f["prediction"], f"{f['support']:.3f}"]
        for j, lab, d in f["neighbours"]:
            cells += [loaded.ids[j], lab, f"{d:.5f}"]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    atomic_write_text(out, "\n".join(lines) + "\n")
    if not quiet:
        err_console.print(f"[bold]wrote[/bold] {out}: {len(records)} queries labelled from {len(labels)} references "
                          f"({enc.name}, k={k}, {metric})")
    return 0
