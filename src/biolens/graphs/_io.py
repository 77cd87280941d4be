"""Reading link-prediction data: the OGB directory layout, plain edge lists and split files.

OGB layout (``ogbl-ddi`` and friends)::

    DIR/raw/edge.csv.gz            one row "u,v" per undirected training edge, no header
    DIR/raw/num-node-list.csv.gz   the number of nodes
    DIR/raw/node-feat.csv.gz       optional node features, one row per node
    DIR/split/<name>/valid.npz     arrays ``edge`` (P, 2) and ``edge_neg`` (M, 2); or OGB's ``valid.pt``
    DIR/split/<name>/test.npz      the same for the test split, when present
    DIR/mapping/nodeidx2*.csv.gz   optional "node idx,<name>" table (DrugBank ids for ogbl-ddi)

An edge-list CSV/TSV (two columns of node indices or names, optional header) is also a
dataset: its validation split is then drawn from it, reproducibly (:func:`holdout_split`).
Header rule: the first row is a header only when it is not two valid node ids -- when the other
rows hold integer ids and it does not; with a name mapping, when either field is not a known
name; with names numbered from the file, when neither field appears in any other row. A lone row
is always data. The decision is reported (``LinkDataset.notes``); ``header=`` overrides it.
``.pt`` split files are read without unpickling (see :mod:`biolens.core.ptfile`).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ..core.errors import InputError
from ..core.extras import require
from ..core.npzfile import read_npz
from ..core.ptfile import UnsupportedPickle, read_pt_file
from ._graph import (
    EdgeSummary,
    Graph,
    LinkSplit,
    canonical_edges,
    check_pairs,
    pair_keys,
    remap_pairs,
    subgraph,
)

__all__ = ["LinkDataset", "holdout_split", "load_dataset", "load_ogb", "read_edge_list", "read_split", "subsample"]

_INT = r"^-?[0-9]+$"  # ASCII digits only: str.isdigit() also accepts '²' and other Unicode digits
_INDEX = r"^[0-9]+$"


@dataclass(frozen=True, eq=False)
class LinkDataset:
    """A training graph (its edges are the training positives) and evaluation splits."""

    graph: Graph
    valid: LinkSplit | None
    test: LinkSplit | None
    source: str
    summary: EdgeSummary
    split_note: str = ""
    original_ids: np.ndarray | None = None  # after subsample(): original_ids[new] = old
    original_num_nodes: int | None = None
    notes: tuple[str, ...] = ()  # decisions taken while reading (the header rule), for the user


def _open_text(path: Path) -> io.TextIOBase:
    return io.TextIOWrapper(gzip.open(path), encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def _scan_fields(path: Path, sep: str, skip: int) -> None:
    """Slow path after a fast read failed: name the first line with other than two fields."""
    with _open_text(path) as fh:
        for number, row in enumerate(csv.reader(fh, delimiter=sep), start=1):
            if number > skip and row and len(row) != 2:
                raise InputError(f"expected 2 fields (u{sep}v), found {len(row)}: {sep.join(row)!r}",
                                 source=str(path), line=number)
    raise InputError("cannot parse the edge list", source=str(path))


def _first_lines(path: Path, n: int = 2) -> list[str]:
    try:
        with _open_text(path) as fh:
            return [line.rstrip("\r\n") for _, line in zip(range(n), fh, strict=False)]
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"cannot read the edge list: {exc}", source=str(path)) from None


def _is_int(column: pl.Series, pattern: str = _INT) -> np.ndarray:
    return column.str.contains(pattern).fill_null(False).to_numpy()


def _header_rule(a: pl.Series, b: pl.Series, names: np.ndarray | None) -> tuple[bool, str]:
    """Whether the first row is a header, and why (the rule in the module docstring)."""
    first = f"{a[0]},{b[0]}"
    present = ~(a.is_null() & b.is_null()).to_numpy()
    present[0] = False
    if not present.any():
        return False, ""  # a lone row is data
    if bool(_is_int(a[:1])[0] and _is_int(b[:1])[0]):
        return False, ""
    if (_is_int(a) & _is_int(b))[present].all():
        return True, f"first row {first!r} read as a header: not two integer node ids like the other rows"
    if names is not None:
        known = {str(x) for x in names}
        if a[0] in known and b[0] in known:
            return False, f"first row {first!r} read as an edge: both are node names of the mapping"
        return True, f"first row {first!r} read as a header: not two node names of the mapping"
    rest = set(a.filter(pl.Series(present)).to_list()) | set(b.filter(pl.Series(present)).to_list())
    if a[0] in rest or b[0] in rest:
        return False, f"first row {first!r} read as an edge: its node names appear in other rows (header=True reads it as a header)"
    return True, f"first row {first!r} read as a header: neither name appears in another row (header=False reads it as an edge)"


def _read_columns(path: Path, header: bool | None, names: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, str]:
    """The two columns as stripped strings (blank lines left out), the line number of the first
    data row, the row numbers (from 0 after the header) of the rows kept, and the header decision."""
    if not path.exists():
        raise InputError("file not found", source=str(path))
    lines = _first_lines(path)
    if not lines or not lines[0].strip():
        raise InputError("empty edge list", source=str(path))
    sep = "\t" if "\t" in lines[0] else ","
    try:
        df = pl.read_csv(path, has_header=False, infer_schema=False, separator=sep)
    except pl.exceptions.ComputeError:
        _scan_fields(path, sep, 0)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"cannot read the edge list: {str(exc).splitlines()[0]}", source=str(path)) from None
    if df.width != 2:
        _scan_fields(path, sep, 0)
    a = df.get_column(df.columns[0]).str.strip_chars()
    b = df.get_column(df.columns[1]).str.strip_chars()
    note = ""
    if header is None:
        header, note = _header_rule(a, b, names)
    if header:
        a, b = a[1:], b[1:]
    blank = (a.is_null() & b.is_null()).to_numpy()
    short = (a.is_null() | b.is_null()).to_numpy() & ~blank
    start = 1 + int(header)
    if short.any():
        row = int(np.flatnonzero(short)[0])
        raise InputError("expected 2 fields, found 1", source=str(path), line=row + start)
    keep = ~blank
    rows = np.flatnonzero(keep)
    return a.to_numpy()[keep], b.to_numpy()[keep], start, rows, note


def read_edge_list(
    path: str | Path, *, num_nodes: int | None = None, names: np.ndarray | None = None, header: bool | None = None,
    notes: list[str] | None = None,
) -> tuple[np.ndarray, int | None, np.ndarray | None, np.ndarray]:
    """Rows ``(u, v)`` of an edge-list CSV/TSV (``.gz`` allowed), before any merging.

    Columns hold node indices, or node names (mapped through ``names`` when given, else
    numbered in sorted order). ``header=None`` applies the header rule (module docstring) and
    appends its decision to ``notes`` when the first row is not two integers.

    Returns:
        ``(pairs (R, 2) int64, num_nodes or None, names or None, lines (R,))``: ``lines`` are the
        file line numbers of the rows, for error messages.
    """
    path = Path(path)
    a, b, start, rows, note = _read_columns(path, header, names)
    if note and notes is not None:
        notes.append(f"{path.name}: {note}")
    lines = rows + start
    if len(a) == 0:
        raise InputError("the edge list has no rows", source=str(path))
    numeric = _is_int(pl.Series(a, dtype=pl.String), _INDEX) & _is_int(pl.Series(b, dtype=pl.String), _INDEX)
    if numeric.all():
        return np.stack([a.astype(np.int64), b.astype(np.int64)], 1), num_nodes, names, lines
    if names is None and numeric.any():
        row = int(np.flatnonzero(~numeric)[0])
        raise InputError(f"not a node index: {a[row]!r}, {b[row]!r} (indices are integers >= 0)",
                         source=str(path), line=int(lines[row]))
    vocab = np.unique(np.concatenate([a, b])) if names is None else np.asarray(names).astype(str)
    order = np.argsort(vocab, kind="stable")
    sorted_vocab = vocab[order]
    pos_a, pos_b = np.searchsorted(sorted_vocab, a), np.searchsorted(sorted_vocab, b)
    found = (sorted_vocab[np.minimum(pos_a, len(vocab) - 1)] == a) & (sorted_vocab[np.minimum(pos_b, len(vocab) - 1)] == b)
    if not found.all():
        row = int(np.flatnonzero(~found)[0])
        raise InputError(f"unknown node name in ({a[row]!r}, {b[row]!r})", source=str(path), line=int(lines[row]))
    pairs = np.stack([order[pos_a], order[pos_b]], 1).astype(np.int64)
    return pairs, len(vocab) if num_nodes is None else num_nodes, vocab, lines


def _read_split_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npz":
        return read_npz(path)
    if path.suffix != ".pt":
        raise InputError("a split file must be .npz (arrays edge, edge_neg) or OGB's .pt", source=str(path))
    try:
        obj = read_pt_file(path)
    except UnsupportedPickle as exc:  # well-formed but outside the safe subset: torch's restricted loader
        obj = _torch_load(path, exc.problem)
    except OSError as exc:  # a malformed or over-budget file raises PtFileError, never retried
        raise InputError(f"cannot read the .pt file ({exc.strerror or exc})", source=str(path)) from None
    if not isinstance(obj, dict):
        raise InputError(f"expected a dict of arrays, found {type(obj).__name__}", source=str(path))
    return {k: np.asarray(v) for k, v in obj.items() if hasattr(v, "shape")}


def _torch_load(path: Path, why: str) -> dict:
    """Files outside the safe reader's subset: PyTorch's own restricted loader, if installed."""
    hint = (f"biolens reads .pt files without unpickling them and could not read this one ({why}). "
            "Convert it once to .npz where PyTorch is installed: python -c \"import torch, numpy as np; "
            f"d = torch.load('{path.name}', weights_only=True); np.savez('{path.stem}.npz', **{{k: np.asarray(v) for k, v in d.items()}})\"")
    try:
        torch = require("torch", extra="torch", purpose="reading this .pt file")
    except ImportError:
        raise InputError(hint, source=str(path)) from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types; any refusal is reported the same way
        raise InputError(f"{hint}; torch.load(weights_only=True) refused it too: {str(exc).splitlines()[0]}",
                         source=str(path)) from None
    return {k: v.numpy() if hasattr(v, "numpy") else v for k, v in obj.items()} if isinstance(obj, dict) else obj


def read_split(path: str | Path, num_nodes: int) -> LinkSplit:
    """A split file (``.npz`` or ``.pt``) holding ``edge`` (P, 2) and ``edge_neg`` (M, 2)."""
    path = Path(path)
    if not path.exists():
        raise InputError("split file not found", source=str(path))
    arrays = _read_split_arrays(path)
    missing = [k for k in ("edge", "edge_neg") if k not in arrays]
    if missing:
        raise InputError(f"the split lacks {missing} (found {sorted(arrays)})", source=str(path))
    out = {}
    for key in ("edge", "edge_neg"):
        pairs = arrays[key]
        if pairs.ndim == 2 and pairs.shape[0] == 2 and pairs.shape[1] != 2:
            pairs = pairs.T  # (2, P) edge_index layout
        if pairs.size == 0:
            raise InputError(f"the split's {key!r} is empty: nothing to evaluate", source=str(path))
        out[key] = check_pairs(pairs, num_nodes, source=str(path), what=key, line_offset=None)
    both = np.isin(pair_keys(out["edge_neg"], num_nodes), pair_keys(out["edge"], num_nodes))
    if both.any():  # it would score as if the model told a pair from itself
        u, v = out["edge_neg"][int(np.flatnonzero(both)[0])]
        raise InputError(f"{int(both.sum()):,} of the split's {len(both):,} negative pairs are also positive pairs "
                         f"in 'edge' (first: ({u}, {v})); a pair cannot be both", source=str(path))
    return LinkSplit(edge=out["edge"], edge_neg=out["edge_neg"], source=str(path))


def _read_num_nodes(path: Path) -> int:
    lines = [line.strip() for line in _first_lines(path, 3) if line.strip()]
    if len(lines) != 1 or not lines[0].isdigit():
        raise InputError("expected one number (the number of nodes)", source=str(path))
    return int(lines[0])


def _read_names(root: Path, num_nodes: int) -> np.ndarray | None:
    tables = sorted((root / "mapping").glob("nodeidx2*.csv*"))
    if not tables:
        return None
    df = pl.read_csv(tables[0], infer_schema=False)
    idx = df.get_column(df.columns[0]).cast(pl.Int64, strict=False).to_numpy()
    names = df.get_column(df.columns[1]).to_numpy().astype(str)
    if len(idx) != num_nodes or not np.array_equal(np.sort(idx), np.arange(num_nodes)):
        raise InputError(f"the mapping must list every node 0..{num_nodes - 1} once", source=str(tables[0]))
    out = np.empty(num_nodes, dtype=names.dtype)
    out[idx] = names
    return out


def _read_features(path: Path, num_nodes: int) -> np.ndarray | None:
    if not path.exists():
        return None
    df = pl.read_csv(path, has_header=False)
    feats = df.to_numpy().astype(np.float32)
    if len(feats) != num_nodes or not np.isfinite(feats).all():
        raise InputError(f"expected {num_nodes} rows of finite numbers", source=str(path))
    return feats


def _find_split(root: Path, split_name: str | None, which: str) -> Path | None:
    base = root / "split"
    dirs = [base / split_name] if split_name else sorted(p for p in base.glob("*") if p.is_dir())
    found = [d / f"{which}.{ext}" for d in dirs for ext in ("npz", "pt") if (d / f"{which}.{ext}").exists()]
    folders = {p.parent for p in found}
    if len(folders) > 1:
        raise InputError(f"several split folders hold {which} files {sorted(map(str, folders))}; choose one with split_name",
                         source=str(root))
    return found[0] if found else None


def load_ogb(root: str | Path, *, split_name: str | None = None, on_duplicate: str = "merge",
             on_self_loop: str = "error") -> LinkDataset:
    """A dataset in the OGB directory layout (see the module docstring)."""
    root = Path(root)
    edge_file = root / "raw" / "edge.csv.gz"
    if not edge_file.exists():
        edge_file = root / "raw" / "edge.csv"
    if not edge_file.exists():
        raise InputError("not an OGB dataset folder: raw/edge.csv.gz is missing", source=str(root))
    count_file = root / "raw" / "num-node-list.csv.gz"
    rows, _, _, lines = read_edge_list(edge_file, header=False)
    num_nodes = _read_num_nodes(count_file) if count_file.exists() else int(rows.max()) + 1
    edges, summary = _edges(rows, num_nodes, lines, edge_file, on_duplicate, on_self_loop)
    graph = Graph(num_nodes=num_nodes, edges=edges, names=_read_names(root, num_nodes),
                  features=_read_features(root / "raw" / "node-feat.csv.gz", num_nodes))
    splits = {w: _find_split(root, split_name, w) for w in ("valid", "test")}
    loaded = {w: read_split(p, num_nodes) if p else None for w, p in splits.items()}
    return LinkDataset(graph=graph, valid=loaded["valid"], test=loaded["test"], source=str(root), summary=summary)


def _edges(rows, num_nodes, lines, path, on_duplicate, on_self_loop):
    bad = (rows < 0) | (rows >= num_nodes)
    if bad.any():
        row = int(np.flatnonzero(bad.any(1))[0])
        raise InputError(f"edge ({rows[row, 0]}, {rows[row, 1]}): node id out of range 0..{num_nodes - 1}",
                         source=str(path), line=int(lines[row]))
    try:
        return canonical_edges(rows, num_nodes, source=str(path), on_duplicate=on_duplicate,
                               on_self_loop=on_self_loop, line_offset=0)
    except InputError as exc:  # translate the row index into the file's line number
        if exc.line is not None:
            raise InputError(exc.problem, source=str(path), line=int(lines[exc.line])) from None
        raise


def holdout_split(graph: Graph, fraction: float, seed: int) -> tuple[Graph, LinkSplit]:
    """Hold out ``fraction`` of the edges as validation positives (seeded) and draw as many
    negatives among pairs that are no edge at all; the rest is the training graph."""
    from ._negatives import sample_negatives

    if not 0 < fraction < 1:
        raise InputError(f"the validation fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng((seed, 7))
    n_valid = max(1, round(fraction * graph.num_edges))
    if graph.num_edges - n_valid < 1:
        raise InputError(f"{graph.num_edges} edges are too few to hold out a validation split")
    order = rng.permutation(graph.num_edges)
    valid, train = graph.edges[np.sort(order[:n_valid])], graph.edges[np.sort(order[n_valid:])]
    neg = sample_negatives(pair_keys(graph.edges, graph.num_nodes), graph.num_nodes, n_valid, rng)
    neg = np.sort(neg, axis=1)
    train_graph = Graph(num_nodes=graph.num_nodes, edges=train, names=graph.names, features=graph.features)
    return train_graph, LinkSplit(edge=valid, edge_neg=neg, source=f"held out ({fraction:g} of edges, seed {seed})")


def _isolated_note(rows: np.ndarray, num_nodes: int, lines: np.ndarray, path: Path) -> list[str]:
    """Integer ids make ``max id + 1`` nodes: say how many are in no edge, and warn when most are
    (one stray row such as ``5,999999`` would otherwise silently make a million-node graph)."""
    isolated = num_nodes - len(np.unique(rows))
    if isolated == 0:
        return []
    note = f"{path.name}: {num_nodes:,} nodes (ids 0..{num_nodes - 1}), {isolated:,} of them in no edge"
    if isolated >= 1000 and isolated > num_nodes // 2:
        row = int(np.flatnonzero((rows == num_nodes - 1).any(1))[0])
        note += (f"; WARNING: the largest id comes from line {int(lines[row])} ({rows[row, 0]}, {rows[row, 1]}) "
                 "-- a stray row? every node gets a learned embedding")
    return [note]


def load_dataset(path: str | Path, *, split_name: str | None = None, valid: str | Path | None = None,
                 valid_fraction: float = 0.1, seed: int = 0, on_duplicate: str = "merge",
                 on_self_loop: str = "error", header: bool | None = None) -> LinkDataset:
    """An OGB folder, or an edge-list file (then ``valid`` is a split file, or a held-out split
    of ``valid_fraction`` of the edges is drawn with ``seed``; ``header`` overrides the header rule)."""
    path = Path(path)
    if path.is_dir():
        data = load_ogb(path, split_name=split_name, on_duplicate=on_duplicate, on_self_loop=on_self_loop)
        if valid is not None:
            data = LinkDataset(graph=data.graph, valid=read_split(valid, data.graph.num_nodes), test=data.test,
                               source=data.source, summary=data.summary)
        return data
    notes: list[str] = []
    rows, num_nodes, names, lines = read_edge_list(path, header=header, notes=notes)
    if num_nodes is None:
        num_nodes = int(rows.max()) + 1
        notes.extend(_isolated_note(rows, num_nodes, lines, path))
    edges, summary = _edges(rows, num_nodes, lines, path, on_duplicate, on_self_loop)
    graph = Graph(num_nodes=num_nodes, edges=edges, names=names)
    if valid is not None:
        return LinkDataset(graph=graph, valid=read_split(valid, num_nodes), test=None, source=str(path), summary=summary,
                           notes=tuple(notes))
    train, split = holdout_split(graph, valid_fraction, seed)
    return LinkDataset(graph=train, valid=split, test=None, source=str(path), summary=summary, split_note=split.source,
                       notes=tuple(notes))


def subsample(data: LinkDataset, num_nodes: int, seed: int = 0) -> LinkDataset:
    """The book's subsetting: ``num_nodes`` random nodes (seeded), their induced training graph
    renumbered ``0 .. num_nodes - 1``, and the evaluation pairs among them (renumbered too)."""
    graph = data.graph
    if not 2 <= num_nodes <= graph.num_nodes:
        raise InputError(f"the subgraph size must be in 2..{graph.num_nodes}, got {num_nodes}")
    keep = np.random.default_rng((seed, 11)).choice(graph.num_nodes, size=num_nodes, replace=False)
    sub, old_ids = subgraph(graph, keep)

    def remap(split: LinkSplit | None) -> LinkSplit | None:
        if split is None:
            return None
        edge, neg = (remap_pairs(p, old_ids, graph.num_nodes) for p in (split.edge, split.edge_neg))
        if len(edge) == 0 or len(neg) == 0:
            raise InputError(f"no {'positive' if len(edge) == 0 else 'negative'} pairs of {split.source} fall in a "
                             f"{num_nodes}-node subgraph; use more nodes")
        return LinkSplit(edge=edge, edge_neg=neg, source=f"{split.source} (pairs within the subgraph)")

    note = f"random {num_nodes}-node subgraph (seed {seed}) of {graph.num_nodes:,} nodes"
    return LinkDataset(graph=sub, valid=remap(data.valid), test=remap(data.test), source=data.source,
                       summary=data.summary, split_note="; ".join(filter(None, [data.split_note, note])),
                       original_ids=old_ids, original_num_nodes=graph.num_nodes, notes=data.notes)
