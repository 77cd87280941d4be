import numpy as np

from biolens.core.batching import bucket_length, default_buckets, iterate_minibatches, plan_batches


def test_default_buckets_grow_and_cover():
    buckets = default_buckets(1000)
    assert buckets[0] == 32 and buckets[-1] >= 1000
    assert all(b % 8 == 0 for b in buckets)
    assert all(b2 / b1 <= 1.6 for b1, b2 in zip(buckets, buckets[1:]))


def test_bucket_length():
    assert bucket_length(1, (32, 48)) == 32
    assert bucket_length(33, (32, 48)) == 48
    assert bucket_length(50, (32, 48)) == 56


def test_plan_batches_covers_every_index_once_within_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 900, size=500).tolist()
    batches = plan_batches(lengths, token_budget=4096)
    seen = sorted(i for b in batches for i in b.indices)
    assert seen == list(range(500))
    for b in batches:
        assert len(b.indices) <= b.rows
        assert all(lengths[i] <= b.length for i in b.indices)
        assert b.rows * b.length <= 4096 or b.rows == 1
    # few distinct shapes: one per bucket, plus power-of-two tails
    assert len({(b.rows, b.length) for b in batches}) <= 2 * len(default_buckets(max(lengths)))


def test_overlong_sequence_gets_its_own_batch():
    batches = plan_batches([10, 40_000], token_budget=1024)
    assert any(b.indices == (1,) and b.rows == 1 and b.length >= 40_000 for b in batches)


def test_iterate_minibatches_shuffles_reproducibly():
    a = np.concatenate(list(iterate_minibatches(10, 3, rng=np.random.default_rng(1))))
    b = np.concatenate(list(iterate_minibatches(10, 3, rng=np.random.default_rng(1))))
    assert sorted(a.tolist()) == list(range(10)) and a.tolist() == b.tolist()
    assert [len(x) for x in iterate_minibatches(10, 3, drop_last=True)] == [3, 3, 3]
