"""What a photo may not reveal when served: camera metadata (EXIF, XMP), which carries the
GPS position of where it was taken. Pure byte surgery, no re-encoding, so it is lossless and
deterministic; the stored original keeps its hash."""

from __future__ import annotations

import struct

JPEG_METADATA_PREFIXES = (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/\x00")
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp\x00"
WEBP_METADATA_CHUNKS = {b"EXIF", b"XMP "}
WEBP_EXIF_AND_XMP_FLAGS = 0x08 | 0x04


def strip_metadata(content: bytes, content_type: str) -> bytes:
    """The image without its metadata; content that cannot be parsed is returned unchanged."""
    strip = {"image/jpeg": strip_jpeg, "image/png": strip_png, "image/webp": strip_webp}
    try:
        return strip[content_type](content)
    except (ValueError, struct.error, IndexError):
        return content


def strip_jpeg(content: bytes) -> bytes:
    """Drop APP1 segments holding EXIF or XMP; everything from the scan on is kept as is."""
    if content[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out, at = bytearray(b"\xff\xd8"), 2
    while at < len(content):
        if content[at] != 0xFF:
            raise ValueError("bad marker")
        marker = content[at + 1]
        if marker == 0xDA or marker == 0xD9:  # start of scan, end of image: copy the rest
            out += content[at:]
            return bytes(out)
        length = struct.unpack(">H", content[at + 2 : at + 4])[0]
        segment = content[at : at + 2 + length]
        if not (marker == 0xE1 and segment[4:].startswith(JPEG_METADATA_PREFIXES)):
            out += segment
        at += 2 + length
    return bytes(out)


def strip_png(content: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not content.startswith(signature):
        raise ValueError("not a PNG")
    out, at = bytearray(signature), len(signature)
    while at < len(content):
        length = struct.unpack(">I", content[at : at + 4])[0]
        kind = content[at + 4 : at + 8]
        chunk = content[at : at + 12 + length]
        is_xmp = kind == b"iTXt" and content[at + 8 :].startswith(PNG_XMP_KEYWORD)
        if kind != b"eXIf" and not is_xmp:
            out += chunk
        at += 12 + length
    return bytes(out)


def strip_webp(content: bytes) -> bytes:
    if content[:4] != b"RIFF" or content[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    body, at = bytearray(), 12
    while at < len(content):
        kind = content[at : at + 4]
        length = struct.unpack("<I", content[at + 4 : at + 8])[0]
        chunk = bytearray(content[at : at + 8 + length + (length & 1)])
        if kind == b"VP8X":
            chunk[8] &= ~WEBP_EXIF_AND_XMP_FLAGS & 0xFF
        if kind not in WEBP_METADATA_CHUNKS:
            body += chunk
        at += 8 + length + (length & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + bytes(body)
