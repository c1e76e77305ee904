"""Draw the app icons (no Pillow needed): red field, white mountain ridge, gold star.

Run from this folder: python3 generate.py. The PNGs are committed; this documents how.
"""

from __future__ import annotations

import math
import struct
import zlib

RED = (183, 28, 28)
WHITE = (255, 255, 255)
GOLD = (255, 202, 40)


def star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.42
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def inside(x: float, y: float, poly: list[tuple[float, float]]) -> bool:
    hit = False
    j = len(poly) - 1
    for i, (xi, yi) in enumerate(poly):
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit


def shapes(scale: float) -> list[tuple[list[tuple[float, float]], tuple[int, int, int]]]:
    """Shapes in unit coordinates around the centre, shrunk by `scale` (maskable safe zone)."""

    def place(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(0.5 + (x - 0.5) * scale, 0.5 + (y - 0.5) * scale) for x, y in points]

    ridge = [(0.12, 0.78), (0.36, 0.42), (0.48, 0.58), (0.64, 0.30), (0.88, 0.78)]
    return [(place(ridge), WHITE), (place(star(0.64, 0.2, 0.1)), GOLD)]


def render(size: int, scale: float) -> bytes:
    layers = [([(x * size, y * size) for x, y in poly], colour) for poly, colour in shapes(scale)]
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            colour = RED
            for poly, fill in layers:
                if inside(x + 0.5, y + 0.5, poly):
                    colour = fill
            rows.extend(colour)
    return png(size, bytes(rows))


def png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    for name, size, scale in (
        ("icon-192.png", 192, 1.0),
        ("icon-512.png", 512, 1.0),
        ("maskable-512.png", 512, 0.7),
    ):
        with open(name, "wb") as handle:
            handle.write(render(size, scale))
