"""Photos are served without the camera metadata that gives away where they were taken."""

from __future__ import annotations

import struct
import zlib

from server.domain.photos import strip_metadata

GPS = b"GPSLatitude 29.3655 N GPSLongitude 121.2731 E"


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


JFIF = jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
EXIF = jpeg_segment(0xE1, b"Exif\x00\x00" + GPS)
XMP = jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + GPS + b"</x:xmpmeta>")
TABLES = jpeg_segment(0xDB, bytes(65))
SCAN = b"\xff\xda" + struct.pack(">H", 8) + bytes(6) + b"\x12\x34\xff\x00\x56" + b"\xff\xd9"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_HEAD = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
PNG_TAIL = png_chunk(b"IDAT", zlib.compress(b"\x00\x10\x20\x30")) + png_chunk(b"IEND", b"")


def webp_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def webp(*chunks: bytes) -> bytes:
    body = b"".join(chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def test_jpeg_loses_exif_and_xmp_and_keeps_everything_else_byte_for_byte():
    photo = b"\xff\xd8" + JFIF + EXIF + XMP + TABLES + SCAN
    assert strip_metadata(photo, "image/jpeg") == b"\xff\xd8" + JFIF + TABLES + SCAN


def test_png_loses_its_exif_and_xmp_chunks_and_keeps_plain_text():
    comment = png_chunk(b"tEXt", b"Comment\x00taken at the boundary")
    xmp = png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + GPS)
    photo = PNG_HEAD + png_chunk(b"eXIf", GPS) + xmp + comment + PNG_TAIL
    assert strip_metadata(photo, "image/png") == PNG_HEAD + comment + PNG_TAIL


def test_webp_loses_exif_and_xmp_and_their_flags():
    vp8x = bytes([0x08 | 0x04 | 0x10]) + bytes(9)
    image = webp_chunk(b"VP8L", b"\x2f\x00\x00\x00\x00")
    photo = webp(
        webp_chunk(b"VP8X", vp8x), image, webp_chunk(b"EXIF", GPS), webp_chunk(b"XMP ", GPS)
    )
    stripped = strip_metadata(photo, "image/webp")
    assert stripped == webp(webp_chunk(b"VP8X", bytes([0x10]) + bytes(9)), image)


def test_content_that_does_not_parse_is_served_unchanged():
    assert strip_metadata(b"\xff\xd8\xff\xe1\x00", "image/jpeg") == b"\xff\xd8\xff\xe1\x00"
