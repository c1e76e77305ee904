"""The code tests and benchmarks share: a real server process, workloads, the load driver,
the Chromium launch settings.

tests/ and bench/ import this package, never each other (tests/test_layout.py checks it);
this package imports neither.
"""
