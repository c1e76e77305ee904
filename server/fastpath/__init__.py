"""The speed shortcuts, each behind a small interface and each checked against the plain
path it replaces on generated input (tests/fastpath/):

- `schema_load.compile_loader`: strict marshmallow schemas load valid input through plain
  checks compiled once; on any doubt marshmallow decides (test_schema_load.py).
- `schema_dump.FastDump`: `schema.dump` for records whose values have the right types
  (tests/test_schemas.py).
- `bulk_insert.insert_many`: a batch's rows in one driver `executemany`, each value through
  its column's bind processor (test_bulk_insert.py).
- `prepared.run_prepared`: module-constant statements compiled once per dialect and run on
  the driver (test_prepared.py).
- `feed_json`: a pull page joined as text from the feed's stored JSON, never parsed again
  (test_feed_json.py).

Row buffering, the shortcut push takes with new records, is declared per op
(`OpSpec.buffered`, server.sync.ops): push flushes the buffered rows before any op that is
not buffered, so no check or apply step ever reads a row that is still waiting.
"""
