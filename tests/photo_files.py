"""Photo files as cameras and phones make them, carrying where they were taken in every place
a file format lets metadata hide, and the checks that served bytes hold none of it.

Built with Pillow (real encoders) and spliced by hand where a camera or an editor writes
what Pillow does not: extended XMP, fill bytes before a marker, data after the image.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PIL.TiffImagePlugin import IFDRational

# The distinctive text every metadata block below carries, and the GPS IFD's coordinates.
WHERE = b"29.3655N-121.2731E-FENGLING-GPS"
LATITUDE = ((29, 1), (21, 1), (5581, 100))
LONGITUDE = ((121, 1), (16, 1), (2327, 100))
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'exif:GPSLatitude="29,21.93N" exif:GPSLongitude="121,16.38E" photoshop:Location="'
    + WHERE
    + b'"/></rdf:RDF></x:xmpmeta>'
)
JPEG_METADATA = ("exif", "xmp", "extended_xmp", "comment", "photoshop", "fill", "trailer")
PNG_METADATA = ("exif", "xmp", "raw_exif", "raw_xmp", "text")
WEBP_METADATA = ("exif", "xmp")


def exif_with_gps(orientation: int | None = None) -> bytes:
    """EXIF as a camera writes it: a GPS IFD with latitude, longitude and a map datum."""
    exif = Image.Exif()
    exif[0x010F] = "FieldCam"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x8825] = {
        0x0001: "N",
        0x0002: tuple(IFDRational(n, d) for n, d in LATITUDE),
        0x0003: "E",
        0x0004: tuple(IFDRational(n, d) for n, d in LONGITUDE),
        0x0012: WHERE.decode(),  # GPSMapDatum
    }
    return exif.tobytes()


def gps_ifd_bytes() -> list[bytes]:
    """The raw coordinate rationals of the GPS IFD, in both byte orders."""
    out = []
    for order in ("<", ">"):
        for value in (LATITUDE, LONGITUDE):
            out.append(b"".join(struct.pack(order + "II", n, d) for n, d in value))
    return out


def picture(size: tuple[int, int] = (48, 32), seed: int = 0, mode: str = "RGB") -> Image.Image:
    """Left half one colour, right half another, so orientation can be seen in the pixels."""
    width, height = size
    image = Image.new(mode, size, (200, 30 + seed % 50, 40, 255)[: len(mode)])
    right = Image.new(
        mode, (max(1, width // 2), height), (20, 60, 210 - seed % 50, 255)[: len(mode)]
    )
    image.paste(right, (width - right.width, 0))
    return image


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(
    metadata: tuple[str, ...] = JPEG_METADATA,
    *,
    size: tuple[int, int] = (48, 32),
    seed: int = 0,
    orientation: int | None = None,
) -> bytes:
    """A real JPEG with the named metadata: EXIF with a GPS IFD, XMP, extended XMP
    (http://ns.adobe.com/xmp/extension/), a comment, a Photoshop IRB, a fill byte before a
    marker, and data after the end of the image (as an MPF second image is)."""
    out = io.BytesIO()
    picture(size, seed).save(out, "JPEG", quality=85)
    body = out.getvalue()
    assert body[:2] == b"\xff\xd8"
    app0_end = 4 + struct.unpack(">H", body[4:6])[0]
    head, rest = body[2:app0_end], body[app0_end:]
    extra = b""
    if "exif" in metadata or orientation is not None:
        extra += segment(0xE1, b"Exif\x00\x00" + exif_with_gps(orientation))
    if "xmp" in metadata:
        extra += segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP)
    if "extended_xmp" in metadata:
        guid = b"0123456789ABCDEF0123456789ABCDEF"
        extended = b"<x:xmpmeta>" + WHERE + b"</x:xmpmeta>"
        extra += segment(
            0xE1,
            b"http://ns.adobe.com/xmp/extension/\x00"
            + guid
            + struct.pack(">II", len(extended), 0)
            + extended,
        )
    if "comment" in metadata:
        extra += segment(0xFE, b"taken at " + WHERE)
    if "photoshop" in metadata:
        extra += segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + WHERE)
    if "fill" in metadata:
        rest = b"\xff" + rest  # a legal fill byte before the next marker
    photo = b"\xff\xd8" + head + extra + rest
    if "trailer" in metadata:
        photo += b"\xff\xd8" + segment(0xE1, b"Exif\x00\x00" + exif_with_gps()) + b"\xff\xd9"
    return photo


def jpeg_cut_after_exif() -> bytes:
    """A JPEG that ends right after its EXIF block: no image at all."""
    body = jpeg(("exif",))
    exif_at = body.index(b"\xff\xe1")
    length = struct.unpack(">H", body[exif_at + 2 : exif_at + 4])[0]
    return body[: exif_at + 2 + length]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(
    metadata: tuple[str, ...] = PNG_METADATA,
    *,
    size: tuple[int, int] = (24, 16),
    seed: int = 0,
    orientation: int | None = None,
    mode: str = "RGB",
) -> bytes:
    """A real PNG with an eXIf chunk, XMP, ImageMagick's "Raw profile type exif/xmp" text
    (zTXt and iTXt), and a plain tEXt comment, each telling where it was taken."""
    info = PngInfo()
    exif = b"Exif\x00\x00" + exif_with_gps(orientation)
    raw = f"\nexif\n{len(exif):8d}\n{exif.hex()}\n"  # as ImageMagick writes it
    if "raw_exif" in metadata:
        info.add_text("Raw profile type exif", raw, zip=True)
        info.add_itxt("Raw profile type exif", raw)
    if "raw_xmp" in metadata:
        info.add_itxt("Raw profile type xmp", XMP.decode(), zip=True)
    if "xmp" in metadata:
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    if "text" in metadata:
        info.add_text("Comment", "taken at " + WHERE.decode())
    out = io.BytesIO()
    options: dict = {"pnginfo": info}
    if "exif" in metadata or orientation is not None:
        options["exif"] = exif_with_gps(orientation)
    picture(size, seed, mode).save(out, "PNG", **options)
    return out.getvalue()


def webp(
    metadata: tuple[str, ...] = WEBP_METADATA,
    *,
    size: tuple[int, int] = (24, 16),
    seed: int = 0,
    orientation: int | None = None,
) -> bytes:
    """A real WebP with EXIF and XMP chunks."""
    out = io.BytesIO()
    options: dict = {"quality": 80}
    if "exif" in metadata or orientation is not None:
        options["exif"] = exif_with_gps(orientation)
    if "xmp" in metadata:
        options["xmp"] = XMP
    picture(size, seed).save(out, "WEBP", **options)
    return out.getvalue()


def jpeg_markers(content: bytes) -> list[int]:
    """The markers of a JPEG, strictly: no fill bytes, nothing after the end of the image."""
    assert content[:2] == b"\xff\xd8", "not a JPEG"
    markers, at = [0xD8], 2
    while True:
        assert content[at] == 0xFF and content[at + 1] not in (0x00, 0xFF), f"bad marker at {at}"
        marker = content[at + 1]
        markers.append(marker)
        if marker == 0xD9:
            assert at + 2 == len(content), "data after the end of the image"
            return markers
        length = struct.unpack(">H", content[at + 2 : at + 4])[0]
        at += 2 + length
        if marker == 0xDA:  # entropy-coded data up to the next marker (not RSTn, not 0xFF00)
            while not (content[at] == 0xFF and content[at + 1] not in (0x00, *range(0xD0, 0xD8))):
                at += 1


def png_chunks(content: bytes) -> list[bytes]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(content):
        length = struct.unpack(">I", content[at : at + 4])[0]
        kinds.append(content[at + 4 : at + 8])
        at += 12 + length
    return kinds


def webp_chunks(content: bytes) -> list[bytes]:
    assert content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    kinds, at = [], 12
    while at < len(content):
        length = struct.unpack("<I", content[at + 4 : at + 8])[0]
        kinds.append(content[at : at + 4])
        if content[at : at + 4] == b"VP8X":
            assert content[at + 8] & (0x08 | 0x04) == 0, "VP8X still announces EXIF or XMP"
        at += 8 + length + (length & 1)
    return kinds


# What a served file may hold: the picture, and nothing that could carry text.
JPEG_ALLOWED = {0xD8, 0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD, 0xDA, 0xD9}
PNG_ALLOWED = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
WEBP_ALLOWED = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}


def assert_tells_nothing_of_where(served: bytes, content_type: str) -> None:
    """No trace of the GPS payload, and only blocks that describe the picture."""
    assert WHERE not in served and b"xmpmeta" not in served
    for raw in gps_ifd_bytes():
        assert raw not in served
    if content_type == "image/jpeg":
        assert set(jpeg_markers(served)) <= JPEG_ALLOWED, jpeg_markers(served)
    elif content_type == "image/png":
        assert set(png_chunks(served)) <= PNG_ALLOWED, png_chunks(served)
    else:
        assert set(webp_chunks(served)) <= WEBP_ALLOWED, webp_chunks(served)
