"""RembRelay: the publisher hears min(uplink, viewers' shares), rate-limited, merged, never dropped."""

from __future__ import annotations

import pytest

from media.bandwidth import RembRelay


def test_silent_until_something_is_known_then_the_first_estimate_goes_out_at_once() -> None:
    relay = RembRelay()
    assert relay.target(0.0) is None
    assert relay.poll(0.0) is None
    assert relay.uplink(800_000, 1.0) == 800_000
    assert relay.last == 800_000
    assert relay.sent == 1


def test_the_slowest_viewer_caps_the_publisher_and_shares_split_a_viewers_downlink() -> None:
    relay = RembRelay()
    assert relay.uplink(900_000, 0.0) == 900_000
    relay.viewer("a", 600_000, streams=1, now=1.0)
    # b's connection carries two video streams: each gets half of its 500 kbit/s.
    assert relay.viewer("b", 500_000, streams=2, now=2.0) == 250_000
    assert relay.target(2.0) == 250_000
    relay.forget("b", 3.0)
    assert relay.target(3.0) == 600_000


def test_increases_wait_for_the_interval_and_are_merged_into_one_later_remb() -> None:
    relay = RembRelay(interval=0.5, min_gap=0.1)
    assert relay.uplink(300_000, 10.0) == 300_000
    assert relay.uplink(350_000, 10.1) is None
    assert relay.uplink(400_000, 10.2) is None
    assert relay.pending
    assert relay.next_deadline() == pytest.approx(10.5)
    assert relay.poll(10.3) is None  # too early: still pending
    assert relay.pending
    assert relay.poll(10.5) == 400_000  # the latest value, once
    assert not relay.pending
    assert relay.poll(10.6) is None
    assert relay.sent == 2


def test_a_decrease_goes_out_after_the_short_gap() -> None:
    relay = RembRelay(interval=0.5, min_gap=0.1)
    assert relay.uplink(800_000, 0.0) == 800_000
    assert relay.viewer("slow", 200_000, streams=1, now=0.05) is None
    assert relay.next_deadline() == pytest.approx(0.1)
    assert relay.poll(0.1) == 200_000
    # A decrease after the gap goes out immediately.
    assert relay.viewer("slow", 150_000, streams=1, now=0.3) == 150_000


def test_a_viewer_that_stopped_reporting_no_longer_counts() -> None:
    relay = RembRelay(stale=5.0)
    relay.uplink(700_000, 0.0)
    relay.viewer("quiet", 100_000, streams=1, now=1.0)
    assert relay.target(5.9) == 100_000
    assert relay.target(6.1) == 700_000
    assert relay.poll(7.0) is None  # nothing pending: no REMB without a reason


def test_forgetting_an_unknown_viewer_changes_nothing_and_bad_settings_are_refused() -> None:
    relay = RembRelay()
    assert relay.forget("nobody", 0.0) is None
    assert relay.sent == 0
    with pytest.raises(ValueError, match="min_gap"):
        RembRelay(interval=0.1, min_gap=0.5)
    with pytest.raises(ValueError, match="stale"):
        RembRelay(stale=0)
