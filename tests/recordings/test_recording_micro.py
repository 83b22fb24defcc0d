"""bench/recording_micro.py stays runnable: a short run records every frame and reports its figures."""

from __future__ import annotations

from bench import recording_micro


def test_a_short_run_records_everything_and_reports() -> None:
    lines: list[str] = []
    figures = recording_micro.main(["--seconds", "2", "--streams", "1", "--repeat", "1"], out=lines.append)
    # main() stops with SystemExit when a frame is missing, a segment absent or a frame dropped.
    assert set(figures) == {
        "process_ms_per_stream_s",
        "loop_ms_per_stream_s",
        "process_us_per_packet",
        "harness_ms_per_stream_s",
    }
    assert lines[0].endswith("2 streams × 2 s of media")
    assert lines[-1].startswith("recorder (best run less the best harness-only run)")
