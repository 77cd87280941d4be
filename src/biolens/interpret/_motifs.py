"""Known motifs: position frequency matrices, log-odds scanning on both strands, and a check that
a model's important window is where the known motif is.

``CTCF_MOTIF`` is JASPAR MA0139.1 (CTCF, 19 bp; counts from 913 sites), from the JASPAR database
(https://jaspar.elixir.no, CC BY 4.0; Fornes et al., Nucleic Acids Res. 2020). Its consensus is
``TGGCCACCAGGGGGCGCTA`` (the core ``CCACCAGGGGGCGC``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jaxtyping import Float

from ..core.errors import InputError

__all__ = [
    "CTCF_MOTIF", "KNOWN_MOTIFS", "Motif", "MotifCheck", "MotifHit", "best_hit", "important_window",
    "motif_check", "motif_from_consensus", "read_jaspar", "resolve_motif", "scan_scores", "span_text",
]

#: The coordinate convention of every window, motif hit and position of a DNA sequence here.
COORDINATES = "0-based, end excluded: [start, end) covers positions start .. end-1"


def span_text(start: int, end: int) -> str:
    """A window for people: ``[40, 60) (0-based, end excluded)``."""
    return f"[{start}, {end}) (0-based, end excluded)"


_IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
          "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}


@dataclass(frozen=True)
class Motif:
    """A motif as per-position base probabilities ``pfm`` ``(W, 4)`` (columns A, C, G, T)."""

    name: str
    pfm: np.ndarray
    source: str = ""

    @property
    def width(self) -> int:
        return len(self.pfm)

    @property
    def consensus(self) -> str:
        return "".join("ACGT"[i] for i in self.pfm.argmax(1))

    def log_odds(self, background: float = 0.25) -> Float[np.ndarray, "W 4"]:
        """log2(p / background) with probabilities floored at 1e-3 (no -inf for unseen bases)."""
        return np.log2(np.maximum(self.pfm, 1e-3) / background)


def _from_counts(name: str, counts: dict[str, list[int] | list[float]], source: str, pseudocount: float = 0.5) -> Motif:
    m = np.asarray([counts[b] for b in "ACGT"], dtype=np.float64).T + pseudocount
    return Motif(name, m / m.sum(1, keepdims=True), source)


CTCF_MOTIF = _from_counts("CTCF", {
    "A": [87, 167, 281, 56, 8, 744, 40, 107, 851, 5, 333, 54, 12, 56, 104, 372, 82, 117, 402],
    "C": [291, 145, 49, 800, 903, 13, 528, 433, 11, 0, 3, 12, 0, 8, 733, 13, 482, 322, 181],
    "G": [76, 414, 449, 21, 0, 65, 334, 48, 32, 903, 566, 504, 890, 775, 5, 507, 307, 73, 266],
    "T": [459, 187, 134, 36, 2, 91, 11, 324, 18, 3, 9, 341, 8, 71, 67, 17, 37, 396, 59],
}, "JASPAR MA0139.1 (CC BY 4.0)")

KNOWN_MOTIFS: dict[str, Motif] = {"CTCF": CTCF_MOTIF, "CTCFL": CTCF_MOTIF}


def motif_from_consensus(name: str, consensus: str, *, match: float = 0.85) -> Motif:
    """A motif from an IUPAC consensus: ``match`` probability shared by the allowed bases."""
    rows = []
    for i, ch in enumerate(consensus.upper()):
        if ch not in _IUPAC:
            raise InputError(f"motif consensus {consensus!r}: {ch!r} at position {i + 1} is not an IUPAC code")
        allowed = _IUPAC[ch]
        row = np.full(4, (1 - match) / max(4 - len(allowed), 1))
        row[["ACGT".index(b) for b in allowed]] = match / len(allowed) if len(allowed) < 4 else 0.25
        rows.append(row / row.sum())
    return Motif(name, np.asarray(rows), f"consensus {consensus}")


def read_jaspar(path: str | Path) -> Motif:
    """Read a JASPAR ``.jaspar`` count matrix (``>ID NAME`` then ``A [ ... ]`` rows for A, C, G, T)."""
    text = Path(path).read_text()
    header = next((ln for ln in text.splitlines() if ln.startswith(">")), ">motif")
    counts = {}
    for line in text.splitlines():
        parts = line.replace("[", " ").replace("]", " ").split()
        if parts and parts[0] in "ACGT" and len(parts[0]) == 1:
            try:
                counts[parts[0]] = [float(v) for v in parts[1:]]
            except ValueError:
                raise InputError(f"not a JASPAR count row: {line!r}", source=str(path)) from None
    if set(counts) != set("ACGT") or len({len(v) for v in counts.values()}) != 1:
        raise InputError("expected JASPAR rows A, C, G, T of equal length", source=str(path))
    return _from_counts(" ".join(header[1:].split()[1:2]) or header[1:].strip(), counts, f"JASPAR file {path}")


def resolve_motif(spec: str) -> Motif:
    """``CTCF`` (a known name), a JASPAR file path, or an IUPAC consensus string."""
    if spec.upper() in KNOWN_MOTIFS:
        return KNOWN_MOTIFS[spec.upper()]
    if Path(spec).is_file():
        return read_jaspar(spec)
    return motif_from_consensus(spec, spec)


def scan_scores(motif: Motif, x: Float[np.ndarray, "N L 4"]) -> Float[np.ndarray, "N P 2"]:
    """Log-odds score of every motif placement on both strands: ``[..., 0]`` forward, ``[..., 1]``
    reverse complement (the motif's reverse complement read on the forward strand). ``P = L - W + 1``."""
    x = np.asarray(x, dtype=np.float64)
    lo = motif.log_odds()
    w = motif.width
    windows = np.lib.stride_tricks.sliding_window_view(x, (w, 4), axis=(1, 2))[:, :, 0]  # (N, P, W, 4)
    fwd = np.einsum("npwa,wa->np", windows, lo)
    rev = np.einsum("npwa,wa->np", windows, lo[::-1, ::-1])
    return np.stack([fwd, rev], axis=-1)


@dataclass(frozen=True)
class MotifHit:
    """The best placement of a motif: ``[start, end)``, strand ``+``/``-``, log-odds ``score`` and
    ``relative`` score (0 = worst possible, 1 = the consensus)."""

    start: int
    end: int
    strand: str
    score: float
    relative: float


def best_hit(motif: Motif, x: Float[np.ndarray, "L 4"]) -> MotifHit:
    """The best-scoring placement of ``motif`` in one one-hot sequence, on either strand."""
    scores = scan_scores(motif, np.asarray(x)[None])[0]
    pos, strand = np.unravel_index(int(np.argmax(scores)), scores.shape)
    lo = motif.log_odds()
    low, high = lo.min(1).sum(), lo.max(1).sum()
    score = float(scores[pos, strand])
    return MotifHit(int(pos), int(pos) + motif.width, "+-"[strand], score, float((score - low) / (high - low)))


def important_window(importance: Float[np.ndarray, " L"], width: int) -> tuple[int, int]:
    """The ``[start, end)`` window (0-based, end excluded) of ``width`` positions with the largest
    summed importance."""
    importance = np.asarray(importance, dtype=np.float64)
    width = min(width, len(importance))
    sums = np.convolve(importance, np.ones(width), mode="valid")
    start = int(np.argmax(sums))
    return start, start + width


@dataclass(frozen=True)
class MotifCheck:
    """Whether the model's most important window covers the best match of a known motif."""

    motif: str
    window: tuple[int, int]
    hit: MotifHit
    overlap: int

    @property
    def agrees(self) -> bool:
        """True when at least half of the motif match lies inside the important window."""
        return self.overlap * 2 >= self.hit.end - self.hit.start

    def as_dict(self) -> dict:
        return {"motif": self.motif, "window": list(self.window), "hit": self.hit.__dict__,
                "overlap_bp": self.overlap, "agrees": self.agrees, "coordinates": COORDINATES}


def motif_check(x: Float[np.ndarray, "L 4"], importance: Float[np.ndarray, " L"], motif: Motif,
                width: int | None = None) -> MotifCheck:
    """Scan ``x`` for ``motif`` and compare the best hit with the most important window
    (``width`` defaults to the motif's width)."""
    hit = best_hit(motif, x)
    window = important_window(importance, width or motif.width)
    overlap = max(0, min(window[1], hit.end) - max(window[0], hit.start))
    return MotifCheck(motif.name, window, hit, overlap)
