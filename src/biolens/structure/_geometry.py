"""Backbone geometry in NumPy: residue frames, dihedrals, superposition, RMSD and lDDT.

Pure functions on arrays; the model's differentiable counterparts live in :mod:`.rigid`.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float, Int

__all__ = ["dihedrals", "frames", "kabsch", "lddt", "rmsd", "superposed_rmsd", "tm_d0", "tm_score", "to_local"]


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-8)


def frames(
    n: Float[np.ndarray, "*B 3"], ca: Float[np.ndarray, "*B 3"], c: Float[np.ndarray, "*B 3"]
) -> tuple[Float[np.ndarray, "*B 3 3"], Float[np.ndarray, "*B 3"]]:
    """Residue frames ``(R, t)``: origin at CA, x towards C, N in the xy-plane (y > 0).

    ``R``'s columns are the frame's axes in the global frame, so a point ``p`` in local
    coordinates sits at ``R @ p + t`` globally.
    """
    e1 = _normalize(c - ca)
    u = n - ca
    e2 = _normalize(u - np.sum(u * e1, axis=-1, keepdims=True) * e1)
    e3 = np.cross(e1, e2)
    return np.stack([e1, e2, e3], axis=-1), ca


def to_local(
    rot: Float[np.ndarray, "*B 3 3"], t: Float[np.ndarray, "*B 3"], x: Float[np.ndarray, "*B 3"]
) -> Float[np.ndarray, "*B 3"]:
    """Global points ``x`` in the local frame ``(rot, t)``: ``rot.T @ (x - t)``."""
    return np.einsum("...ji,...j->...i", rot, x - t)


def _dihedral(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    b0, b1, b2 = a - b, c - b, d - c
    b1n = _normalize(b1)
    v = b0 - np.sum(b0 * b1n, -1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, -1, keepdims=True) * b1n
    x = np.sum(v * w, -1)
    y = np.sum(np.cross(b1n, v) * w, -1)
    return np.arctan2(y, x)


def dihedrals(
    coords: Float[np.ndarray, "L A 3"], segment: Int[np.ndarray, " L"]
) -> tuple[Float[np.ndarray, "L 3"], Bool[np.ndarray, "L 3"]]:
    """Backbone dihedrals phi, psi, omega (radians) per residue and where they are defined.

    ``coords[:, :3]`` are N, CA, C. phi(i) = C(i-1)-N-CA-C, psi(i) = N-CA-C-N(i+1),
    omega(i) = CA-C-N(i+1)-CA(i+1); an angle needing a residue across a chain break (or past
    an end) is undefined (0 and ``False``).
    """
    n, ca, c = coords[:, 0], coords[:, 1], coords[:, 2]
    L = len(n)
    out = np.zeros((L, 3), np.float64)
    ok = np.zeros((L, 3), bool)
    if L > 1:
        link = segment[1:] == segment[:-1]  # residue i and i+1 are bonded
        out[1:, 0] = _dihedral(c[:-1], n[1:], ca[1:], c[1:])
        out[:-1, 1] = _dihedral(n[:-1], ca[:-1], c[:-1], n[1:])
        out[:-1, 2] = _dihedral(ca[:-1], c[:-1], n[1:], ca[1:])
        ok[1:, 0], ok[:-1, 1], ok[:-1, 2] = link, link, link
    return np.where(ok, out, 0.0), ok


def kabsch(
    x: Float[np.ndarray, "N 3"], y: Float[np.ndarray, "N 3"]
) -> tuple[Float[np.ndarray, "3 3"], Float[np.ndarray, " 3"]]:
    """The proper rotation ``R`` and translation ``t`` minimising ``|x @ R.T + t - y|²``.

    Kabsch (1976), Acta Cryst. A32:922, with the determinant correction against reflections.
    """
    if x.shape != y.shape or x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"need two (N, 3) arrays of one shape, got {x.shape} and {y.shape}")
    mx, my = x.mean(0), y.mean(0)
    h = (x - mx).T @ (y - my)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rot, my - mx @ rot.T


def superposed_sq_dev(x: Float[np.ndarray, "N 3"], y: Float[np.ndarray, "N 3"]) -> Float[np.ndarray, " N"]:
    """Squared distances per point after superposing ``x`` onto ``y``."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    rot, t = kabsch(x, y)
    return np.sum((x @ rot.T + t - y) ** 2, axis=-1)


def superposed_rmsd(x: Float[np.ndarray, "N 3"], y: Float[np.ndarray, "N 3"]) -> float:
    """RMSD between point sets after optimal superposition (rotation + translation)."""
    return float(np.sqrt(np.mean(superposed_sq_dev(x, y))))


def superpose_segments(
    pred: Float[np.ndarray, "L A 3"], true: Float[np.ndarray, "L A 3"], mask: Bool[np.ndarray, "L A"],
    segment: Int[np.ndarray, " L"],
) -> tuple[Float[np.ndarray, "L A 3"], Float[np.ndarray, " L"]]:
    """``pred`` with each segment superposed on ``true`` (Kabsch on the segment's present atoms),
    and each residue's RMSD to ``true`` over its present atoms (Å; NaN in a segment of fewer than
    3 atoms, which has no superposition)."""
    out = np.array(pred, np.float64)
    true = np.nan_to_num(np.asarray(true, np.float64))
    error = np.full(len(out), np.nan)
    for s in np.unique(segment):
        res = segment == s
        sel = res[:, None] & mask
        if sel.sum() >= 3:
            rot, t = kabsch(out[sel], true[sel])
            out[res] = out[res] @ rot.T + t
            sq = np.where(mask[res], np.sum((out[res] - true[res]) ** 2, axis=-1), 0.0)
            error[res] = np.sqrt(sq.sum(1) / np.maximum(mask[res].sum(1), 1))
    return out, error


def rmsd(
    pred: Float[np.ndarray, "L A 3"], true: Float[np.ndarray, "L A 3"],
    mask: Bool[np.ndarray, "L A"], segment: Int[np.ndarray, " L"],
) -> float:
    """Backbone RMSD of a chain: each segment superposed on its own (their relative placement
    is not defined across a break), squared deviations pooled over every present atom."""
    return pooled_rmsd(superpose_segments(pred, true, mask, segment)[1], mask)


def pooled_rmsd(error: Float[np.ndarray, " L"], mask: Bool[np.ndarray, "L A"]) -> float:
    """The chain RMSD from :func:`superpose_segments`' per-residue errors: squared deviations pooled
    over every present atom (residues without a superposition, NaN, left out)."""
    used = np.isfinite(error)
    if not used.any():
        return float("nan")
    atoms = mask.sum(1)[used]
    return float(np.sqrt(np.sum(error[used] ** 2 * atoms) / atoms.sum()))


def lddt(
    pred: Float[np.ndarray, "L 3"], true: Float[np.ndarray, "L 3"], segment: Int[np.ndarray, " L"],
    *, cutoff: float = 15.0, thresholds: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0),
) -> float:
    """lDDT on one atom per residue (Cα), superposition-free.

    Mariani et al. (2013), Bioinformatics 29:2722: over the pairs closer than ``cutoff`` Å in
    ``true`` (excluding self-pairs), the fraction whose distance is preserved within each
    threshold, averaged over the thresholds. Only pairs within one segment count.
    """
    d_true = np.linalg.norm(true[:, None] - true[None], axis=-1)
    d_pred = np.linalg.norm(pred[:, None] - pred[None], axis=-1)
    pairs = (d_true < cutoff) & ~np.eye(len(true), dtype=bool) & (segment[:, None] == segment[None])
    if not pairs.any():
        return float("nan")
    err = np.abs(d_true - d_pred)[pairs]
    return float(np.mean([np.mean(err < t) for t in thresholds]))


def tm_d0(n: int) -> float:
    """TM-score's distance scale for a structure of ``n`` residues: ``1.24 (n - 15)^(1/3) - 1.8`` Å,
    at least 0.5 Å (as the TM-score program clamps it for short chains)."""
    return max(0.5, 1.24 * np.cbrt(n - 15) - 1.8) if n > 15 else 0.5


def _tm_search(pred: np.ndarray, true: np.ndarray, d0: float, iterations: int) -> float:
    """The largest ``sum_i 1 / (1 + (d_i / d0)^2)`` over superpositions found by TM-score's
    heuristic: seeds of consecutive residues (lengths n, n/2, n/4, ... down to 4, sliding by half
    a length), each refined by superposing on the residues closer than ``clip(d0, 4.5, 8)`` Å."""
    n = len(true)
    cut = float(np.clip(d0, 4.5, 8.0))
    best, length = 0.0, n
    while True:
        for start in range(0, n - length + 1, max(1, length // 2)):
            sel = np.zeros(n, bool)
            sel[start : start + length] = True
            for _ in range(iterations):
                rot, t = kabsch(pred[sel], true[sel])
                d = np.linalg.norm(pred @ rot.T + t - true, axis=-1)
                best = max(best, float(np.sum(1.0 / (1.0 + (d / d0) ** 2))))
                new = d < cut
                if new.sum() < 3:
                    new = d <= np.sort(d)[2]
                if np.array_equal(new, sel):
                    break
                sel = new
        if length <= 4:
            return best
        length = max(4, length // 2)


def tm_score(
    pred: Float[np.ndarray, "L 3"], true: Float[np.ndarray, "L 3"], segment: Int[np.ndarray, " L"],
    *, iterations: int = 20,
) -> float:
    """TM-score of ``pred`` against ``true`` (one atom per residue, Cα; residues correspond
    one to one): ``max over superpositions (1/L) sum_i 1 / (1 + (d_i / d0(L))^2)``, Zhang & Skolnick
    (2004), Proteins 57:702, found by their program's seed-and-refine search (a heuristic: the
    maximum found is a lower bound of the true one). Segments of a chain with breaks are
    superposed each on its own (their relative placement is not defined), their sums pooled
    over all ``L`` residues; segments of fewer than 3 residues contribute nothing."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    d0 = tm_d0(len(true))
    total = sum(_tm_search(pred[segment == s], true[segment == s], d0, iterations)
                for s in np.unique(segment) if np.sum(segment == s) >= 3)
    return float(total / len(true)) if len(true) else float("nan")
