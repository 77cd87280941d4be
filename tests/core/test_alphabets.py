import pytest

from biolens.core.alphabets import DNA, PROTEIN, clean_sequence, validate_records
from biolens.core.errors import InputError
from biolens.core.seqio import Record


def recs(*seqs):
    return [Record(f"r{i}", s, i + 1) for i, s in enumerate(seqs)]


def test_valid_protein_passes_unchanged():
    seq, notes = clean_sequence("MKVLAAGIXBZJUO", PROTEIN)
    assert seq == "MKVLAAGIXBZJUO" and notes == {}


def test_lowercase_is_uppercased_and_counted():
    kept, report = validate_records(recs("mkvl", "MKVL"), PROTEIN)
    assert [r.sequence for r in kept] == ["MKVL", "MKVL"]
    assert report.lowercase == 1 and report.kept == 2


def test_terminal_stop_removed_internal_stop_invalid():
    kept, report = validate_records(recs("MKV*"), PROTEIN)
    assert kept[0].sequence == "MKV" and report.terminal_stop == 1
    with pytest.raises(InputError, match=r"record 'r0'.*'\*' \(internal stop\) at position 3"):
        validate_records(recs("MK*V"), PROTEIN)


@pytest.mark.parametrize(
    ("seq", "kind"),
    [("MK-V", "gap"), ("MK.V", "gap"), ("M1KV", "digit"), ("MK V", "whitespace"), ("MK#V", "symbol")],
)
def test_invalid_characters_error_names_record_line_and_kind(seq, kind):
    with pytest.raises(InputError) as err:
        validate_records([Record("P12345", seq, 7)], PROTEIN, source="in.fasta")
    msg = str(err.value)
    assert "in.fasta:7" in msg and "'P12345'" in msg and kind in msg and "--on-invalid" in msg


def test_skip_policy_drops_and_reports():
    kept, report = validate_records(recs("MKV", "MK-V", ""), PROTEIN, "skip")
    assert [r.id for r in kept] == ["r0"]
    assert [s[0] for s in report.skipped] == ["r1", "r2"]
    assert any("skipped 2" in line for line in report.lines())


def test_replace_policy_substitutes_unknown_and_drops_whitespace():
    kept, report = validate_records(recs("MK-V 1*A"), PROTEIN, "replace")
    assert kept[0].sequence == "MKXVXXA"
    assert report.replaced_records == 1 and report.replaced_chars == 4


def test_empty_sequence_is_an_error_by_default():
    with pytest.raises(InputError, match="no sequence"):
        validate_records(recs(""), PROTEIN)


def test_dna_soft_masked_bases_and_invalid_letters():
    kept, report = validate_records(recs("acgtNNAC"), DNA)
    assert kept[0].sequence == "ACGTNNAC" and report.lowercase == 1
    with pytest.raises(InputError, match="letter not in the alphabet"):
        validate_records(recs("ACGU"), DNA)
    kept, _ = validate_records(recs("ACGU"), DNA, "replace")
    assert kept[0].sequence == "ACGN"


def test_non_ascii_letters_are_invalid_not_folded_into_amino_acids(write):
    # str.upper() would make 'ſ' an S and 'ﬁ' the two letters FI (14 residues from 13 characters)
    with pytest.raises(InputError) as err:
        validate_records([Record("p1", "MKTAYſIAKQRﬁQ", 2)], PROTEIN, source="in.fasta")
    msg = str(err.value)
    assert "in.fasta:2, record 'p1'" in msg and "U+017F LATIN SMALL LETTER LONG S) at position 6" in msg
    assert "U+FB01 LATIN SMALL LIGATURE FI) at position 12" in msg
    kept, report = validate_records([Record("p1", "mktayſiakqrﬁq", 2)], PROTEIN, policy="replace")
    assert kept[0].sequence == "MKTAYXIAKQRXQ" and report.replaced_chars == 2 and report.lowercase == 1
    from biolens.core.seqio import load_sequences

    path = write("u.fasta", ">p1\nMKTAY\u00a0IAK\n>p2\nMKV\n")  # a non-breaking space is not whitespace here
    with pytest.raises(InputError, match=r"u.fasta:1, record 'p1'.*U\+00A0 NO-BREAK SPACE"):
        load_sequences(path, PROTEIN)
