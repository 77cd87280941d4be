"""Sequence alphabets and the validation policy applied to every record read.

Rules (the same for every reader and command, documented in docs/input.md):

0. Only ASCII is read as sequence: any other character (``ſ``, ``ﬁ``, a non-breaking space) is
   invalid and named with its code point, *before* any upper-casing (Unicode upper-casing would
   turn ``ſ`` into ``S`` and ``ﬁ`` into ``FI``).
1. Lowercase ASCII letters are upper-cased and counted (soft-masked DNA, lowercase FASTA).
2. One terminal ``*`` (a translated stop codon) is removed and counted.
3. Any other character outside the alphabet -- gaps ``-``/``.``, internal ``*``, digits,
   whitespace, other symbols, or letters the alphabet does not have -- is *invalid*:

   * ``error`` (default): raise :class:`InputError` naming the record, line and characters;
   * ``skip``: drop the record and count it with its reason;
   * ``replace``: whitespace is dropped, every other invalid character becomes the alphabet's
     unknown letter (``X`` for proteins, ``N`` for DNA); counted.

4. An empty sequence is never repaired: an error, or dropped under ``skip``/``replace``.
"""

from __future__ import annotations

import dataclasses
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from .errors import InputError

__all__ = [
    "DNA",
    "PROTEIN",
    "Alphabet",
    "InvalidPolicy",
    "ValidationReport",
    "ascii_upper",
    "clean_sequence",
    "validate_records",
]

InvalidPolicy = Literal["error", "skip", "replace"]
POLICIES: tuple[str, ...] = ("error", "skip", "replace")


@dataclass(frozen=True)
class Alphabet:
    """An alphabet of sequence letters.

    Attributes:
        name: ``"protein"`` or ``"dna"``.
        standard: the canonical letters, in a fixed order (used for one-hot columns).
        ambiguous: further accepted letters (IUPAC ambiguity and rare residues).
        unknown: the letter that replaces invalid characters under ``replace``.
    """

    name: str
    standard: str
    ambiguous: str
    unknown: str

    @property
    def letters(self) -> frozenset[str]:
        return frozenset(self.standard + self.ambiguous)


#: 20 standard amino acids; X unknown, B (D/N), Z (E/Q), J (I/L), U selenocysteine, O pyrrolysine.
PROTEIN = Alphabet("protein", "ACDEFGHIKLMNPQRSTVWY", "XBZJUO", "X")
#: A, C, G, T; N for an unknown base.
DNA = Alphabet("dna", "ACGT", "N", "N")


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_ASCII_SPACE = " \t\n\r\v\f"


def _kind(ch: str) -> str:
    if not ch.isascii():
        return f"non-ASCII U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"
    if ch in "-.":
        return "gap"
    if ch == "*":
        return "internal stop"
    if ch.isdigit():
        return "digit"
    if ch.isspace():
        return "whitespace"
    if ch.isalpha():
        return "letter not in the alphabet"
    return "symbol"


def ascii_upper(text: str, what: str = "text") -> str:
    """``text`` stripped and upper-cased, refusing any non-ASCII character (named with its code point)
    instead of letting Unicode case rules fold it into ASCII letters.

    Raises:
        ValueError: naming the first non-ASCII character and its 1-based position.
    """
    for i, ch in enumerate(text, start=1):
        if not ch.isascii():
            raise ValueError(f"{what} {text!r} has {ch!r} ({_kind(ch)}) at position {i}; only ASCII letters are read")
    return text.strip(_ASCII_SPACE).translate(_ASCII_UPPER)


@dataclass
class ValidationReport:
    """What validation did to a set of records, for the run summary."""

    read: int = 0
    kept: int = 0
    lowercase: int = 0
    terminal_stop: int = 0
    replaced_records: int = 0
    replaced_chars: int = 0
    skipped: list[tuple[str, int | None, str]] = field(default_factory=list)

    def merge(self, other: ValidationReport) -> ValidationReport:
        out = dataclasses.replace(self, skipped=[*self.skipped, *other.skipped])
        for name in ("read", "kept", "lowercase", "terminal_stop", "replaced_records", "replaced_chars"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        return out

    def lines(self) -> list[str]:
        """Human-readable summary lines (only the non-zero items)."""
        out = [f"records read: {self.read}, kept: {self.kept}"]
        if self.lowercase:
            out.append(f"lowercase letters upper-cased in {self.lowercase} record(s)")
        if self.terminal_stop:
            out.append(f"terminal '*' removed from {self.terminal_stop} record(s)")
        if self.replaced_records:
            out.append(
                f"{self.replaced_chars} invalid character(s) replaced in {self.replaced_records} record(s)"
            )
        if self.skipped:
            reasons = Counter(reason.split(":")[0] for _, _, reason in self.skipped)
            detail = ", ".join(f"{n} {r}" for r, n in reasons.most_common())
            out.append(f"skipped {len(self.skipped)} record(s): {detail}")
        return out


def _describe_invalid(bad: list[tuple[int, str]]) -> str:
    by_char: dict[str, list[int]] = {}
    for pos, ch in bad:
        by_char.setdefault(ch, []).append(pos)
    parts = []
    for ch, positions in list(by_char.items())[:5]:
        shown = ", ".join(str(p) for p in positions[:5]) + (", ..." if len(positions) > 5 else "")
        parts.append(f"{ch!r} ({_kind(ch)}) at position {shown}")
    more = f" and {len(by_char) - 5} more kinds" if len(by_char) > 5 else ""
    return "invalid characters: " + "; ".join(parts) + more


def clean_sequence(
    raw: str, alphabet: Alphabet, policy: InvalidPolicy = "error"
) -> tuple[str | None, dict[str, int | str]]:
    """Apply the validation rules to one sequence.

    Returns:
        ``(sequence, notes)``: ``sequence`` is ``None`` when the record must be dropped
        (``notes["reason"]`` says why) or raise. ``notes`` counts ``lowercase``,
        ``terminal_stop`` and ``replaced`` characters.

    Raises:
        ValueError: with the problem text, under ``policy="error"`` (callers add the record).
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown invalid-input policy {policy!r}; choose from {POLICIES}")
    notes: dict[str, int | str] = {}
    seq = raw.strip(_ASCII_SPACE)
    upper = seq.translate(_ASCII_UPPER)  # ASCII only: non-ASCII letters stay, and are invalid below
    if seq != upper:
        notes["lowercase"] = 1
        seq = upper
    if seq.endswith("*"):
        notes["terminal_stop"] = 1
        seq = seq[:-1]
    if not seq:
        notes["reason"] = "empty: the record has no sequence"
        if policy == "error":
            raise ValueError(notes["reason"])
        return None, notes
    letters = alphabet.letters
    bad = [(i + 1, ch) for i, ch in enumerate(seq) if ch not in letters]
    if not bad:
        return seq, notes
    if policy == "error":
        raise ValueError(
            _describe_invalid(bad) + " (use --on-invalid skip or --on-invalid replace to continue)"
        )
    if policy == "skip":
        notes["reason"] = "invalid: " + _describe_invalid(bad)
        return None, notes
    fixed = "".join(
        "" if ch in _ASCII_SPACE else (ch if ch in letters else alphabet.unknown) for ch in seq
    )
    notes["replaced"] = len(bad)
    if not fixed:
        notes["reason"] = "empty: nothing left after removing whitespace"
        return None, notes
    return fixed, notes


def validate_records(
    records: Iterable, alphabet: Alphabet, policy: InvalidPolicy = "error", source: str | None = None
) -> tuple[list, ValidationReport]:
    """Validate records (objects with ``id``, ``sequence``, ``line``) under ``policy``.

    Returns the kept records, with cleaned sequences, and a :class:`ValidationReport`.
    Raises :class:`InputError` naming the record under ``policy="error"``.
    """
    report = ValidationReport()
    kept = []
    for rec in records:
        report.read += 1
        try:
            seq, notes = clean_sequence(rec.sequence, alphabet, policy)
        except ValueError as exc:
            raise InputError(str(exc), source=source, record=rec.id, line=rec.line) from None
        report.lowercase += int(notes.get("lowercase", 0))
        report.terminal_stop += int(notes.get("terminal_stop", 0))
        if notes.get("replaced"):
            report.replaced_records += 1
            report.replaced_chars += int(notes["replaced"])
        if seq is None:
            report.skipped.append((rec.id, rec.line, str(notes["reason"])))
            continue
        kept.append(rec if seq == rec.sequence else dataclasses.replace(rec, sequence=seq))
    report.kept = len(kept)
    return kept, report
