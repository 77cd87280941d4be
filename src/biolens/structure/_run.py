"""What the commands do with a trained run: evaluate a folder, tokenize a file, decode tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.files import read_json
from ._dataset import Chain, load_folder
from ._evaluate import evaluate_chains, threedi_stats
from ._features import residue_features
from ._geometry import lddt, pooled_rmsd, superpose_segments, tm_score
from ._models import GaussianVAE, ThreeDiDecoder
from ._pdbwrite import backbone_mmcif, backbone_pdb
from ._read import read_backbones
from ._tokenizer import decode_tokens, format_tokens, parse_tokens, tokenize
from ._training import load_run

__all__ = ["decode_against", "decode_text", "evaluate_folder", "tokenize_file"]


def evaluate_folder(
    run: str | Path, structures: str | Path, *, split: str | None = None, threedi: bool = True,
    on_invalid: str = "skip", progress: bool = False, log: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Metrics of a run on the chains of a folder (``split`` filters files as the run split
    them), with 3Di's statistics on the same chains under ``"3di"``. ``split=None``: the run's
    held-out ``test`` files when the folder holds files the run was trained or validated on
    (its own folder), else ``all`` (a folder the run has never seen is held out as a whole)."""
    model, book, config = load_run(run)
    saved = _saved_split(run)
    if split is None:
        split = "test" if _holds_run_files(structures, saved) else "all"
    need3di = threedi or isinstance(model, ThreeDiDecoder)
    chains, report = load_folder(
        structures, neighbours=config.model.neighbours, on_invalid=on_invalid, threedi=need3di,
        split_seed=config.split_seed, val=config.val_fraction, test=config.test_fraction,
        splits=None if split == "all" else (split,), progress=progress, saved_split=saved,
    )
    for line in report.lines() if log else []:
        log(line)
    result: dict[str, Any] = {"run": str(run), "structures": str(structures), "split": split,
                              "model": config.model.kind, "codebook_size": _codebook_size(model, book),
                              **evaluate_chains(model, book, chains, progress=progress)}
    if threedi:
        result["3di"] = threedi_stats(chains)
    result["skipped_files"] = len(report.skipped)
    return result


def _saved_split(run: str | Path) -> dict[str, str] | None:
    """The run's ``split.json`` as resolved path -> split (``None`` for a run without one)."""
    path = Path(run) / "split.json"
    if not path.is_file():
        return None
    saved = read_json(path)
    return {str(Path(f).resolve()): name for name, files in saved.items() for f in files}


def _holds_run_files(structures: str | Path, saved: dict[str, str] | None) -> bool:
    """Whether a file the run split (``split.json``) lies under ``structures``."""
    if not saved:
        return False
    root = Path(structures).resolve()
    return any(Path(f).is_relative_to(root) for f in saved)


def _codebook_size(model: Any, book: Any) -> int | None:
    if isinstance(model, GaussianVAE):
        return None
    return 20 if isinstance(model, ThreeDiDecoder) else book.size


def tokenize_file(run: str | Path, path: str | Path, *, chain: str | None = None) -> list[tuple[str, str]]:
    """``(ENTRY_CHAIN, token string)`` for each protein chain of a file."""
    model, book, config = load_run(run)
    backbones, _ = read_backbones(path, chain)
    out = []
    for bb in backbones:
        if isinstance(model, ThreeDiDecoder):
            raise InputError("a 3di run decodes Foldseek states; it has no tokenizer of its own", source=str(run))
        tokens = tokenize(model, book, Chain(bb, residue_features(bb, config.model.neighbours)[0]))
        out.append((bb.id, format_tokens(tokens, bb.segment)))
    return out


def _records(text: str, source: str) -> list[tuple[str, str]]:
    if ">" not in text:
        return [("tokens", text)]
    out, name, body = [], None, []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(">"):
            if name is not None:
                out.append((name, " ".join(body)))
            name, body = line[1:].strip() or f"record{len(out) + 1}", []
        elif name is None and line.strip():
            raise InputError("text before the first '>' header", source=source, line=n)
        else:
            body.append(line)
    out.append((name, " ".join(body)))
    return out


def _decoded(run: str | Path, text: str, source: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, decoded coords, segment)`` per record of a token text."""
    model, book, _ = load_run(run)
    if isinstance(model, GaussianVAE):
        raise InputError("a Gaussian VAE run has continuous latents, not tokens; train a vqvae run", source=str(run))
    size = 21 if isinstance(model, ThreeDiDecoder) else book.size
    out = []
    for name, body in _records(text, source):
        tokens, segment = parse_tokens(body, size, source=f"{source} record {name!r}")
        out.append((re.sub(r"\s+", "_", name), decode_tokens(model, book, tokens, segment), segment))
    return out


def _write(run: str | Path, records: list, fmt: str, source: str, remark: str = "") -> str:
    if fmt not in ("pdb", "cif"):
        raise InputError(f"unknown output format {fmt!r}; choose pdb or cif")
    remark = "\n".join([f"backbone decoded by biolens from structure tokens ({Path(run).name})", remark])
    if fmt == "cif":
        return backbone_mmcif(records, remark=remark)
    try:
        return backbone_pdb(records, remark=remark)
    except InputError as exc:
        raise InputError(f"the decoded backbones {exc.problem} (--format cif, or --out FILE.cif)", source=source) from None


def decode_text(run: str | Path, text: str, *, source: str = "tokens", fmt: str = "pdb") -> str:
    """PDB (``fmt="pdb"``) or mmCIF (``fmt="cif"``) text of the backbones decoded from token
    strings (one chain per record). PDB refuses chains past its fixed columns (long chains drift
    beyond 9999.999 Å; more than 9,999 residues or 99,999 atoms), naming the limit."""
    return _write(run, _decoded(run, text, source), fmt, source)


def _pair(names: list[str], backbones: list[Any], reference: str) -> list[Any]:
    """The reference chain of each record: by name (``ENTRY_CHAIN``, as ``tokenize`` writes
    them), or the only chain for the only record."""
    by_id = {bb.id: bb for bb in backbones}
    if all(name in by_id for name in names):
        return [by_id[name] for name in names]
    if len(names) == 1 and len(backbones) == 1:
        return backbones
    missing = next(name for name in names if name not in by_id)
    raise InputError(f"token record {missing!r} names no chain of the reference (its chains: "
                     f"{', '.join(by_id)}); name records '>ENTRY_CHAIN' as tokenize writes them, or pick one "
                     "chain with --chain", source=reference)


def decode_against(
    run: str | Path, text: str, reference: str | Path, *, chain: str | None = None, source: str = "tokens",
    fmt: str = "pdb",
) -> tuple[str, list[dict[str, Any]]]:
    """Decode token strings and superpose each chain on its chain of a reference structure file
    (the file the tokens came from): the PDB/mmCIF text of the superposed backbones, with each
    residue's backbone RMSD to the reference (Å) in the B-factor column, and per chain its
    ``rmsd`` (the evaluate command's number for that chain), ``lddt`` and ``tm_score``.

    Raises:
        InputError: a record names no reference chain, or its tokens and breaks do not match the
            chain's residues (naming both).
    """
    decoded = _decoded(run, text, source)
    backbones, _ = read_backbones(reference, chain)
    records, metrics = [], []
    for (name, coords, segment), bb in zip(decoded, _pair([d[0] for d in decoded], backbones, str(reference)),
                                              strict=True):
        if len(segment) != len(bb) or not np.array_equal(np.flatnonzero(np.diff(segment)),
                                                         np.flatnonzero(np.diff(bb.segment))):
            raise InputError(f"token record {name!r} has {len(segment)} tokens in {int(segment[-1]) + 1} segment(s) "
                             f"but chain {bb.id} has {len(bb)} residues in {bb.n_segments}", source=str(reference))
        true, mask = bb.coords[:, :4], bb.mask[:, :4]
        placed, error = superpose_segments(coords, true, mask, bb.segment)
        ca = np.nan_to_num(true[:, 1])
        metrics.append({"chain": name, "reference": bb.id, "residues": len(bb),
                        "rmsd": pooled_rmsd(error, mask),
                        "lddt": lddt(placed[:, 1], ca, bb.segment), "tm_score": tm_score(placed[:, 1], ca, bb.segment)})
        records.append((name, placed, segment, error))
    remark = "\n".join([f"superposed on {Path(reference).name}; B-factor: residue backbone RMSD (A)",
                         *(f"{m['reference']}: RMSD {m['rmsd']:.2f} A, lDDT {m['lddt']:.3f}, TM {m['tm_score']:.3f}"
                           for m in metrics)])
    return _write(run, records, fmt, str(reference), remark), metrics
