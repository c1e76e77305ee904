"""The opaque pull cursor: epoch, feed position and the caller's visibility.

A position is (txid, seq): the pull serves rows in that order (server.sync.pull). On
SQLite every txid is 0, and so are those of rows written on PostgreSQL before migration
0010. Version 1 holds positions at a txid of 0 (its text is what it always was), version 2
the others, so a cursor issued before the migration still means the same position after it.
"""

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
    txid: int = 0

    @property
    def position(self) -> tuple[int, int]:
        return (self.txid, self.seq)

    def encode(self) -> str:
        if self.txid:
            raw = f"2|{self.epoch}|{self.txid}|{self.seq}|{self.scope}"
        else:
            raw = f"1|{self.epoch}|{self.seq}|{self.scope}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """:raises AppError: invalid_cursor (400) when it was not made by this server."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            version, *fields = raw.split("|")
            if version == "1":
                epoch, seq, scope = fields
                txid = "0"
            elif version == "2":
                epoch, txid, seq, scope = fields
                if int(txid) <= 0:
                    raise ValueError(txid)
            else:
                raise ValueError(version)
            if int(seq) < 0:
                raise ValueError(seq)
            return cls(epoch, int(seq), scope, int(txid))
        except (ValueError, UnicodeDecodeError, binascii.Error) as error:
            raise AppError("invalid_cursor", {"cursor": ["Invalid input."]}) from error
