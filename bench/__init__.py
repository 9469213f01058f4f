"""Benchmarks for the coach; run `python -m bench.turns` (see bench/README.md)."""
