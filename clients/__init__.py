"""Clients of the sync API that run outside the server (the feed mirror)."""
