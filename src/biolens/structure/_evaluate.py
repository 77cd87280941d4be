"""Reconstruction metrics of a structure model on chains, next to Foldseek's 3Di statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.progress import progress_bar
from ._dataset import Chain
from ._geometry import lddt, rmsd, tm_score
from ._models import GaussianVAE, ThreeDiDecoder
from ._quantize import codebook_stats
from ._threedi import INVALID
from ._tokenizer import reconstruct

__all__ = ["evaluate_chains", "threedi_stats", "window_rmsd"]


def window_rmsd(pred: np.ndarray, true: np.ndarray, mask: np.ndarray, segment: np.ndarray, window: int = 32) -> list[float]:
    """RMSD of consecutive, non-overlapping ``window``-residue stretches of each segment
    (superposed one by one): the local accuracy, free of drift along long chains."""
    out = []
    for s in np.unique(segment):
        idx = np.flatnonzero(segment == s)
        for start in range(0, len(idx) - window + 1, window):
            sl = idx[start : start + window]
            out.append(rmsd(pred[sl], true[sl], mask[sl], segment[sl]))
    return out


def threedi_stats(chains: list[Chain]) -> dict[str, Any]:
    """Usage and perplexity of the 20 3Di states over the chains' residues (undefined ones,
    the chain ends, left out)."""
    states = np.concatenate([c.states3di for c in chains])
    stats = codebook_stats(np.bincount(states[states != INVALID], minlength=20))
    return {**stats, "bits_per_residue": float(np.log2(stats["perplexity"]))}


def evaluate_chains(model: Any, book: Any, chains: list[Chain], *, progress: bool = False) -> dict[str, Any]:
    """Encode and decode every chain; mean backbone RMSD (Å, per-segment superposition), Cα
    lDDT, Cα TM-score, 32-residue window RMSD and, for VQ models, codebook usage and perplexity."""
    rmsds, lddts, tms, windows, codes = [], [], [], [], []
    with progress_bar(len(chains), "evaluating", enabled=progress) as advance:
        for chain in chains:
            bb = chain.backbone
            rec = reconstruct(model, book, chain)
            true, mask = np.nan_to_num(bb.coords[:, :4]), bb.mask[:, :4]
            rmsds.append(rmsd(rec.coords, true, mask, bb.segment))
            lddts.append(lddt(rec.coords[:, 1], true[:, 1], bb.segment))
            tms.append(tm_score(rec.coords[:, 1], true[:, 1], bb.segment))
            windows += window_rmsd(rec.coords, true, mask, bb.segment)
            codes.append(rec.codes)
            advance(1)
    out: dict[str, Any] = {
        "rmsd": float(np.nanmean(rmsds)), "rmsd_median": float(np.nanmedian(rmsds)),
        "lddt": float(np.nanmean(lddts)), "tm_score": float(np.nanmean(tms)), "window_rmsd_32": float(np.mean(windows)) if windows else float("nan"),
        "chains": len(chains), "residues": int(sum(len(c.backbone) for c in chains)),
    }
    if isinstance(model, GaussianVAE):
        out["codebook_usage"] = None  # continuous latents: no codebook
    else:
        size = 20 if isinstance(model, ThreeDiDecoder) else book.size
        flat = np.concatenate(codes)
        if isinstance(model, ThreeDiDecoder):
            flat = flat[flat != INVALID]
        stats = codebook_stats(np.bincount(flat, minlength=size))
        out.update(stats, bits_per_residue=float(np.log2(stats["perplexity"])))
    return out
