"""The sync protocol (v1) over a SQLAlchemy session: no HTTP here."""
