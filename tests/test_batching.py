import numpy as np
import pytest

from biolens.core.batching import (
    bucket_length,
    default_buckets,
    octave_bucket,
    pad_apply,
    plan_batches,
)


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


def test_octave_bucket_ladders():
    # powers of two from a floor (graph blocks), with 1.5x steps (structure segments), rows (floor 1)
    assert [octave_bucket(n, minimum=64) for n in (0, 1, 64, 65, 129, 1000)] == [64, 64, 64, 128, 256, 1024]
    assert [octave_bucket(n, minimum=64, half_steps=True) for n in (1, 64, 65, 97, 129, 200, 300)] == [
        64, 64, 96, 128, 192, 256, 384]
    assert [octave_bucket(n) for n in (1, 2, 3, 5, 8, 9)] == [1, 2, 4, 8, 8, 16]
    with pytest.raises(ValueError, match="power of two"):
        octave_bucket(5, minimum=48)


def test_pad_apply_calls_one_shape_and_unpads():
    seen = []

    def fn(batch):
        seen.append({k: v.shape for k, v in batch.items()})
        return {"sum": batch["x"].sum(1), "first": batch["t"][:, 0]}

    x = np.arange(20.0).reshape(10, 2)
    t = np.arange(30).reshape(10, 3)
    out = pad_apply(fn, {"x": x, "t": t}, batch_size=4)
    assert np.array_equal(out["sum"], x.sum(1)) and np.array_equal(out["first"], t[:, 0])
    assert seen == [{"x": (4, 2), "t": (4, 3)}] * 3


def test_pad_apply_fixed_rows_and_fill_value():
    calls = []

    def fn(x):
        calls.append(x.copy())
        return x * 2

    out = pad_apply(fn, np.array([[1, 2], [3, 4]]), batch_size=4, pad=-7, fixed=True)
    assert np.array_equal(out, [[2, 4], [6, 8]])
    assert np.array_equal(calls[0], [[1, 2], [3, 4], [-7, -7], [-7, -7]])
    # not fixed: fewer rows than batch_size means one call of exactly those rows, no padding
    calls.clear()
    pad_apply(fn, np.ones((3, 1)), batch_size=8)
    assert calls[0].shape == (3, 1)
    with pytest.raises(ValueError, match="zero rows"):
        pad_apply(fn, np.zeros((0, 2)), batch_size=4)
