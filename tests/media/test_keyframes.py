"""media.keyframes: PLIs are rate-limited, and requests inside the window are merged, never dropped."""

from __future__ import annotations

import itertools

import pytest

from media.keyframes import KeyframeRelay


def test_a_burst_of_five_requests_gives_one_pli_now_and_exactly_one_later() -> None:
    relay = KeyframeRelay(interval=0.3)
    sent_now = [relay.request(t) for t in (0.0, 0.05, 0.1, 0.2, 0.29)]
    assert sent_now == [True, False, False, False, False]
    assert relay.pending
    assert relay.next_deadline() == pytest.approx(0.3)
    assert not relay.poll(0.299)
    assert relay.poll(0.3)
    assert not relay.pending
    assert relay.next_deadline() is None
    assert not any(relay.poll(t) for t in (0.31, 0.6, 5.0))
    assert (relay.requests, relay.sent, relay.merged) == (5, 2, 3)


def test_a_keyframe_answers_pending_requests() -> None:
    relay = KeyframeRelay()
    assert relay.request(10.0)
    assert not relay.request(10.1)
    relay.keyframe_seen(10.15)
    assert relay.last_keyframe == 10.15
    assert relay.next_deadline() is None
    assert not relay.poll(10.4)


def test_a_request_after_the_keyframe_still_counts() -> None:
    relay = KeyframeRelay()
    assert relay.request(10.0)
    relay.keyframe_seen(10.05)
    assert not relay.request(10.1)
    assert relay.poll(10.3)


def test_requests_after_the_window_are_sent_at_once() -> None:
    relay = KeyframeRelay(interval=0.3)
    assert relay.request(1.0)
    assert relay.request(1.3)
    assert relay.request(5.0)
    assert relay.sent == 3


def test_a_late_request_picks_up_a_pending_one() -> None:
    relay = KeyframeRelay(interval=0.3)
    assert relay.request(1.0)
    assert not relay.request(1.1)
    assert relay.request(1.5)  # the caller's timer was late: one PLI for both
    assert not relay.pending
    assert not relay.poll(1.9)
    assert relay.sent == 2


def test_merged_requests_keep_the_rate_limit() -> None:
    """Continuous requests every 50 ms give one PLI per 300 ms, and the last request is never lost."""
    relay = KeyframeRelay(interval=0.3)
    sent_at = []
    for tick in range(60):
        now = tick * 0.05
        if relay.request(now) or relay.poll(now):
            sent_at.append(now)
    deadline = relay.next_deadline()
    assert deadline is not None
    assert relay.poll(deadline)
    sent_at.append(deadline)
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert min(gaps) >= 0.3 - 1e-9
    assert sent_at[-1] >= 59 * 0.05


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        KeyframeRelay(interval=0)
