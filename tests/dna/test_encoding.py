import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.dna import (
    N_VALUE,
    decode_one_hot,
    one_hot,
    read_tf_data,
    reverse_complement,
    reverse_complement_one_hot,
)


def test_one_hot_golden_and_n_row_is_quarter():
    x = one_hot(["ACGTN"])
    assert x.shape == (1, 5, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :4], np.eye(4))
    assert N_VALUE == 0.25
    np.testing.assert_array_equal(x[0, 4], [0.25, 0.25, 0.25, 0.25])
    assert np.allclose(x.sum(-1), 1.0)  # every row sums to one, N included
    np.testing.assert_array_equal(one_hot(["N"], n_value=0.0)[0, 0], np.zeros(4))


def test_mixed_lengths_in_one_batch_name_the_record():
    with pytest.raises(InputError, match=r"record 'b'.*length 3, but 'a' has length 4.*no padding"):
        one_hot(["ACGT", "ACG"], ids=["a", "b"])


@pytest.mark.parametrize("bad", ["ACGu", "ACGX", "AC-T"])
def test_letters_outside_acgtn_are_refused_by_one_hot(bad):
    with pytest.raises(InputError, match="not one of A, C, G, T, N"):
        one_hot([bad], ids=["r1"])


def test_reverse_complement_string_and_one_hot_agree():
    seq = "AACGTNNGCAT"
    assert reverse_complement(seq) == "ATGCNNACGTT"
    assert reverse_complement(reverse_complement(seq)) == seq
    np.testing.assert_array_equal(reverse_complement_one_hot(one_hot(seq)), one_hot(reverse_complement(seq)))
    assert decode_one_hot(one_hot(seq)) == seq


def test_soft_masked_lowercase_is_uppercased_and_counted(write):
    path = write("soft.fa", ">a label=1\nACGTacgtNN\n>b label=0\nACGTACGTAC\n")
    data = read_tf_data(path)
    assert data.sequences == ("ACGTACGTNN", "ACGTACGTAC") and data.report.lowercase == 1
    assert "lowercase letters upper-cased in 1 record(s)" in data.report.lines()


def test_non_acgtn_letters_error_with_record_and_line_or_follow_the_policy(write):
    path = write("bad.fa", ">a label=1\nACGTACGTAC\n>b label=0\nACGTRCGTAC\n")
    with pytest.raises(InputError, match=r"bad.fa:3, record 'b': invalid characters: 'R'.*position 5"):
        read_tf_data(path)
    replaced = read_tf_data(path, on_invalid="replace")
    assert replaced.sequences[1] == "ACGTNCGTAC" and replaced.report.replaced_chars == 1
    skipped = read_tf_data(path, on_invalid="skip")
    assert skipped.ids == ("a",) and skipped.labels.tolist() == [1.0]
