"""Benchmarks: commands that print figures (recorded in docs/BENCHMARKS.md)."""
