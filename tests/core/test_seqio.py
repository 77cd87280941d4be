import gzip

import pytest

from biolens.core.alphabets import PROTEIN
from biolens.core.errors import InputError
from biolens.core.seqio import (
    check_unique_ids,
    load_sequences,
    read_fasta,
    read_sequences,
    read_table,
)


def test_fasta_multiline_and_description(write):
    path = write("a.fasta", ">P1 Cell.membrane-M\nMKV\nLLA\n\n>P2\nGG\n")
    recs = read_fasta(path)
    assert [(r.id, r.sequence, r.line, r.description) for r in recs] == [
        ("P1", "MKVLLA", 1, "Cell.membrane-M"),
        ("P2", "GG", 5, ""),
    ]


def test_gzipped_fasta(tmp_path):
    path = tmp_path / "a.fa.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(">x\nMKV\n")
    assert read_sequences(path)[0].sequence == "MKV"


def test_empty_file_is_an_error(write):
    with pytest.raises(InputError, match="no sequence records"):
        read_sequences(write("e.fasta", ""))


def test_text_before_first_header(write):
    with pytest.raises(InputError, match=r"b.fasta:1: sequence text before the first '>'"):
        read_fasta(write("b.fasta", "MKV\n>x\nMKV\n"))


def test_header_without_sequence_named_with_line(write):
    path = write("c.fasta", ">x\nMKV\n>empty\n>z\nAA\n")
    with pytest.raises(InputError, match=r"c.fasta:3, record 'empty': empty"):
        load_sequences(path, PROTEIN)
    recs, report = load_sequences(path, PROTEIN, on_invalid="skip")
    assert [r.id for r in recs] == ["x", "z"] and report.skipped[0][:2] == ("empty", 3)


def test_header_without_id(write):
    with pytest.raises(InputError, match="header has no id"):
        read_fasta(write("d.fasta", ">\nMKV\n"))


def test_binary_file_refused(write):
    with pytest.raises(InputError, match="binary"):
        read_sequences(write("x.fasta", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_sequences(tmp_path / "nope.fasta")


def test_csv_columns_and_ids(write):
    path = write("t.csv", "name,sequence,label\na,MKV,1\nb,GGA,0\n")
    recs = read_table(path)
    assert [(r.id, r.sequence, r.line, dict(r.fields)) for r in recs] == [
        ("a", "MKV", 2, {"label": "1"}),
        ("b", "GGA", 3, {"label": "0"}),
    ]


def test_csv_values_are_not_coerced(write):
    recs = read_table(write("t.csv", "id,sequence\n007,MKV\n"))
    assert recs[0].id == "007"


def test_tsv_detected_and_rows_numbered_without_id_column(write):
    recs = read_sequences(write("t.tsv", "seq\tscore\nMKV\t0.5\nAA\t1\n"))
    assert [r.id for r in recs] == ["row1", "row2"]


def test_csv_without_named_column_lists_columns(write):
    path = write("t.csv", "name,protein\na,MKV\n")
    with pytest.raises(InputError, match=r"no sequence column.*\['name', 'protein'\].*--sequence-column"):
        read_table(path)
    with pytest.raises(InputError, match=r"no sequence column 'sequence_x'"):
        read_table(path, sequence_column="sequence_x")
    assert read_table(path, sequence_column="protein")[0].sequence == "MKV"


def test_duplicate_ids(write):
    recs = read_fasta(write("d.fasta", ">a\nMKV\n>a\nMKV\n>b\nGG\n"))
    with pytest.raises(InputError, match=r"record 'a'.*duplicate id \(first seen on line 1\).*--dedupe"):
        check_unique_ids(recs)
    kept, dropped = check_unique_ids(recs, dedupe=True)
    assert [r.id for r in kept] == ["a", "b"] and dropped == 1
    different = read_fasta(write("e.fasta", ">a\nMKV\n>a\nMKA\n"))
    with pytest.raises(InputError, match="different sequence"):
        check_unique_ids(different, dedupe=True)


def test_bad_utf8_byte_late_in_a_table_names_its_line_and_offset(write):
    from biolens.core.errors import InputError
    from biolens.core.seqio import read_sequences

    rows = "".join(f"p{i},MKTAYIAKQR\n" for i in range(2000))  # past the 8 KiB sniffed for binary files
    data = ("id,sequence\n" + rows).encode() + b"p2000,MKT\xe9AY\n"
    path = write("late.csv", data)
    offset = data.index(b"\xe9")
    with pytest.raises(InputError, match=rf"late.csv:2002: not UTF-8 text: byte 0xe9 at byte offset {offset}"):
        read_sequences(path)
    with pytest.raises(InputError, match=r"late.fasta:4001: not UTF-8 text: byte 0xe9"):
        read_sequences(write("late.fasta", "".join(f">p{i}\nMKTAYIAKQR\n" for i in range(2000)).encode() + b">x\xe9\n"))
