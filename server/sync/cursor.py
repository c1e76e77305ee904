"""The opaque pull cursor: epoch, sequence number and the caller's visibility."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from server.errors import AppError


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int
    scope: str

    def encode(self) -> str:
        raw = f"1|{self.epoch}|{self.seq}|{self.scope}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """:raises AppError: invalid_cursor (400) when it was not made by this server."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            version, epoch, seq, scope = raw.split("|")
            if version != "1" or int(seq) < 0:
                raise ValueError(version)
            return cls(epoch, int(seq), scope)
        except (ValueError, UnicodeDecodeError, binascii.Error) as error:
            raise AppError("invalid_cursor", {"cursor": ["Invalid input."]}) from error
