"""The database layer: engine setup and the one write lock, the unit of work, the
migrations runner and JSON text. Knows SQLAlchemy, never HTTP."""
