"""`python -m bench.load`: 100 phones for 60 s against the real server on 127.0.0.1.

The driver is testkit/load.py (`tests/multiprocess/test_load.py` runs the same in CI);
options: --devices, --seconds, --workers (per instance), --database (sqlite or postgresql),
--instances (N `fengling serve` on different ports against one PostgreSQL database).
"""

from testkit.load import main

if __name__ == "__main__":
    main()
