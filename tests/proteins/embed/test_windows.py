import numpy as np
import pytest

from biolens.proteins.embed import plan_windows, stitch


def test_plan_windows_cover_and_align_to_end():
    w = plan_windows(2500, 1000, 200)
    assert w == [(0, 1000), (800, 1800), (1500, 2500)]
    assert plan_windows(10, 1000, 200) == [(0, 10)]
    with pytest.raises(ValueError):
        plan_windows(10, 5, 5)


def test_stitch_takes_each_residue_from_its_most_central_window():
    length, size, overlap = 230, 100, 40
    windows = plan_windows(length, size, overlap)
    # each window marks its own index, so we can see who won each position
    states = [np.full((e - s, 1), k, np.float32) for k, (s, e) in enumerate(windows)]
    out = stitch(windows, states)[:, 0]
    assert out.shape == (length,)
    for p in range(length):
        candidates = [k for k, (s, e) in enumerate(windows) if s <= p < e]
        margin = {k: min(p - windows[k][0], windows[k][1] - 1 - p) for k in candidates}
        assert margin[int(out[p])] >= max(margin.values()) - 1
