"""`python -m bench`: the sync benchmark against a real multi-process server on 127.0.0.1."""

from bench.sync_bench import main

main()
