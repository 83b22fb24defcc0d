"""WindowRate answers exactly as aiortc's RateCounter does (the estimator's incoming bitrate)."""

from __future__ import annotations

import random

import pytest
from aiortc.rate import RateCounter

from media.window_rate import WindowRate


def test_none_before_anything_and_within_the_first_millisecond() -> None:
    rate = WindowRate(1000)
    assert rate.rate(5) is None
    rate.add(1200, 10)
    assert rate.rate(10) is None  # a window of one millisecond has no rate yet
    assert rate.rate(11) == round(8000 * 1200 / 2)


def test_packets_leave_the_window_after_window_ms() -> None:
    rate = WindowRate(100, scale=1000)
    rate.add(10, 0)
    rate.add(20, 50)
    assert rate.rate(99) == 300  # 30 in the 100 ms from 0 to 99
    assert rate.rate(100) == 200  # the packet at 0 ms is out of the window 1..100
    assert rate.rate(149) == 200
    assert rate.rate(150) is None  # nothing left in the window 51..150


def test_reset_starts_a_new_window() -> None:
    rate = WindowRate(1000)
    rate.add(500, 0)
    rate.reset()
    assert rate.rate(10) is None
    rate.add(500, 20)
    assert rate.rate(21) == round(8000 * 500 / 2)


def test_a_window_must_have_a_length() -> None:
    with pytest.raises(ValueError, match="at least 1 ms"):
        WindowRate(0)


@pytest.mark.parametrize("seed", range(20))
def test_same_answers_as_aiortc_rate_counter(seed: int) -> None:
    generator = random.Random(seed)
    window = generator.choice((10, 100, 1000))
    ours, theirs = WindowRate(window), RateCounter(window, 8000)
    now = generator.randrange(0, 10_000)
    for _ in range(2_000):
        now += generator.choice((0, 0, 1, 3, 10, 33, 250, window, 3 * window))
        action = generator.random()
        if action < 0.6:
            size = generator.randrange(0, 1_500)
            ours.add(size, now)
            theirs.add(size, now)
        elif action < 0.98:
            assert ours.rate(now) == theirs.rate(now)
        else:
            ours.reset()
            theirs.reset()
    assert ours.rate(now) == theirs.rate(now)
