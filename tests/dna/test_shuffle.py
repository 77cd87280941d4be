import itertools
from collections import Counter

import numpy as np

from biolens.dna import dinucleotide_counts, dinucleotide_shuffle, shuffle_many


def test_shuffles_keep_exact_dinucleotide_counts_and_ends():
    rng = np.random.default_rng(7)
    for _ in range(500):
        seq = "".join(rng.choice(list("ACGTN"), size=int(rng.integers(1, 120))))
        out = dinucleotide_shuffle(seq, rng)
        assert dinucleotide_counts(out) == dinucleotide_counts(seq)
        assert Counter(out) == Counter(seq) and out[0] == seq[0] and out[-1] == seq[-1]


def test_dinucleotide_counts_golden():
    assert dinucleotide_counts("AAAC") == Counter({"AA": 2, "AC": 1})


def test_seeded_and_actually_shuffled():
    seq = "ACGTTGCAAGGCTTAACGTACGGGATCCATTGACCA" * 3
    assert shuffle_many([seq] * 3, seed=1) == shuffle_many([seq] * 3, seed=1)
    assert shuffle_many([seq], seed=1) != shuffle_many([seq], seed=2)
    assert sum(a != b for a, b in zip(shuffle_many([seq], seed=3)[0], seq)) > len(seq) // 3


def test_every_valid_shuffle_is_reached_about_equally_often():
    seq = "AACGTACAG"
    target = dinucleotide_counts(seq)
    valid = {"".join(p) for p in itertools.permutations(seq) if dinucleotide_counts("".join(p)) == target}
    assert len(valid) == 12
    rng = np.random.default_rng(0)
    seen = Counter(dinucleotide_shuffle(seq, rng) for _ in range(6000))
    assert set(seen) == valid
    assert all(380 < c < 620 for c in seen.values())  # 500 expected, sd ~21
