"""Benchmarks of the running service. Run them all with ``./scripts/bench``; see docs/benchmarks.md."""
