"""`python -m bench.load`: 100 phones for 60 s against the real server on 127.0.0.1.

The driver is testkit/load.py (`tests/multiprocess/test_load.py` runs the same in CI);
options: --devices, --seconds, --workers.
"""

from testkit.load import main

if __name__ == "__main__":
    main()
