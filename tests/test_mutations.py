"""Mutation codes and variant files: parsing, and bad input named by row."""

from __future__ import annotations

import pytest

from biolens.core.errors import InputError
from biolens.proteins.mutations import (
    Mutation,
    apply_mutations,
    mutations_from_sequence,
    parse_mutations,
    read_variants,
)

WT = "MKTAYIAKQR"


def test_codes_parse_one_based_and_sorted():
    assert parse_mutations("Y5F:M1A", WT) == (Mutation(0, "M", "A"), Mutation(4, "Y", "F"))
    assert parse_mutations("wt", WT) == ()
    assert str(Mutation(23, "A", "G")) == "A24G"
    assert apply_mutations(WT, parse_mutations("M1A:R10K", WT)) == "AKTAYIAKQK"
    assert mutations_from_sequence("MKTAYIAKQK", WT) == (Mutation(9, "R", "K"),)


@pytest.mark.parametrize(("code", "message"), [
    ("A1G", "the wild type has M at position 1, not A"),
    ("M11A", "position 11 is outside the wild type"),
    ("M0A", "position 0 is outside"),
    ("1A", "not a mutation code"),
    ("M1A:M1C", "position 1 is mutated twice"),
    ("M1X", "X is not one of the 20"),
])
def test_bad_codes(code, message):
    with pytest.raises(InputError, match=message):
        parse_mutations(code, WT)


def test_variant_files_name_the_bad_row(write):
    good = read_variants(write("v.csv", "mutant,y\nM1A,1\nK2C:Y5F,2\n"), WT)
    assert [len(m) for m in good.mutations] == [1, 2] and good.rows[1]["y"] == "2"
    with pytest.raises(InputError, match=r"v2.csv:3: row 2: A2C: the wild type has K at position 2, not A"):
        read_variants(write("v2.csv", "mutant\nM1A\nA2C\n"), WT)
    with pytest.raises(InputError, match="no 'sequence' column and no mutation-code column"):
        read_variants(write("v3.csv", "name,fitness\na,1\n"), WT)
    seqs = read_variants(write("v4.csv", "sequence\nMKTAYIAKQK\nMKTAY\n"), WT)
    assert seqs.mutations[0] == (Mutation(9, "R", "K"),) and seqs.mutations[1] is None  # llr only
    with pytest.raises(InputError, match="row 1: empty sequence"):
        read_variants(write("v5.csv", "sequence,x\n,1\n"), WT)


def test_marginal_scores_refuse_other_lengths(write):
    from biolens.proteins.language_model import MaskedLM
    from biolens.proteins.mutations import score_variants

    class Fake(MaskedLM):  # the lengths are checked before the model is used: no weights needed
        def __init__(self) -> None:
            self.name = "fake"

    table = read_variants(write("v.csv", "sequence\nMKTAYIAKQK\nMKTAY\n"), WT)
    with pytest.raises(InputError, match="row 2: its sequence has 5 residues, the wild type 10"):
        score_variants(Fake(), WT, table, "masked-marginal")


def test_non_ascii_mutation_codes_are_refused():
    with pytest.raises(InputError, match=r"'ſ' \(non-ASCII U\+017F .*\) at position 1"):
        parse_mutations("ſ2A", "MSV")  # 'ſ'.upper() is 'S', which would match the wild type
    with pytest.raises(InputError, match=r"U\+0662 ARABIC-INDIC DIGIT TWO"):
        parse_mutations("S\u0662A", "MSV")  # a Unicode digit would pass \d and int()
