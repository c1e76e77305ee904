"""The database layer: engine setup and the one write lock, the migrations runner and JSON
text. Knows SQLAlchemy, never HTTP or the sync rules."""
