"""Pure rules of the product: no Flask, no SQLAlchemy, no I/O."""
