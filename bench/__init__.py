"""Benchmarks: run with `make bench`; they print figures and write JSON, they assert nothing."""
