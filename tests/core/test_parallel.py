"""ordered_map: results in input order, a bounded number of calls at once, errors and early exits."""

import threading
import time

import pytest

from biolens.core.parallel import ordered_map


class Recorder:
    """A call that sleeps longer for earlier items (so they finish last) and records concurrency."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.started: list[int] = []
        self.threads: set[int] = set()

    def __call__(self, i: int) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.append(i)
            self.threads.add(threading.get_ident())
        try:
            time.sleep(0.002 * (self.n - i))
            if i == self.fail_at:
                raise RuntimeError(f"item {i} failed")
            return i * i
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.parametrize("in_flight", [1, 2, 3, 8])
def test_results_come_back_in_input_order_with_at_most_in_flight_calls_running(in_flight):
    call = Recorder(12)
    assert list(ordered_map(call, range(12), in_flight=in_flight)) == [i * i for i in range(12)]
    assert call.most == in_flight  # the later items are quicker, so the window fills every time
    assert sorted(call.started) == list(range(12))


def test_one_in_flight_runs_inline_on_the_calling_thread():
    call = Recorder(4)
    assert list(ordered_map(call, range(4), in_flight=1)) == [0, 1, 4, 9]
    assert call.threads == {threading.get_ident()}


def test_an_error_surfaces_at_its_item_and_later_items_never_start():
    call = Recorder(20, fail_at=3)
    got = []
    with pytest.raises(RuntimeError, match="item 3 failed"):
        for value in ordered_map(call, range(20), in_flight=2):
            got.append(value)
    assert got == [0, 1, 4]  # everything before the failure was delivered
    assert max(call.started) <= 4  # at most one call beyond the failed one had been submitted


def test_leaving_early_stops_submitting_calls():
    call = Recorder(50)
    for value in ordered_map(call, range(50), in_flight=3):
        if value == 4:
            break
    time.sleep(0.05)
    assert len(call.started) <= 5  # items 0-2 taken, at most in_flight = 3 more submitted
    assert call.running == 0  # the running ones finished before the loop returned


def test_in_flight_must_be_positive():
    with pytest.raises(ValueError, match="in_flight must be >= 1"):
        list(ordered_map(abs, [1], in_flight=0))
