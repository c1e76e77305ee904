"""Marshmallow schemas for every request and response body; unknown fields are refused."""
