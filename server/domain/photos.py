"""What a photo may not reveal when served: camera metadata (EXIF, XMP, text chunks, trailers
after the image), which carries the GPS position of where it was taken.

Fail closed: a photo is decoded in full by Pillow and re-encoded from its pixels alone, so the
served bytes hold nothing but what the encoder writes for the picture. A photo Pillow cannot
decode is refused (`PhotoRefused`), never passed through. The EXIF orientation is applied to
the pixels before the metadata goes, so the photo still shows the right way up.

Hand-written byte surgery was the earlier approach; it kept whatever it did not recognise
(fill bytes, extended XMP, PNG "Raw profile" text, data after the end of the image) and
served the original on any parse error. Re-encoding has no such gaps.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, ImageFile, ImageOps, JpegImagePlugin

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# Far above a phone photo (the PWA sends at most 1600 px a side, a camera 12-50 MP), and a
# guard against a small file that decodes to gigabytes.
MAX_PIXELS = 60_000_000
# Kept from the decoded image's info: what the picture needs to look right, nothing else.
PIXEL_INFO = ("transparency",)


class PhotoRefused(ValueError):
    """A photo that cannot be made safe to serve; `code` is its error code."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(f"{code}: {reason}" if reason else code)
        self.code = code


def servable_photo(content: bytes, content_type: str) -> bytes:
    """The photo as it may be served: decoded and re-encoded in its own format, orientation
    applied, every metadata block gone.

    :raises PhotoRefused: photo_unreadable (not a whole image of the declared type),
        photo_too_many_pixels (over MAX_PIXELS), unsupported_media_type (not JPEG, PNG, WebP).
    """
    image_format = FORMATS.get(content_type)
    if image_format is None:
        raise PhotoRefused("unsupported_media_type")
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # set by no one here; never serve half a photo
        raise PhotoRefused("photo_unreadable", "truncated images are being accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=[image_format])
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("photo_too_many_pixels", f"{image.width}x{image.height}")
            image.load()  # the whole image: a truncated or broken one raises here
            jpeg = jpeg_settings(image) if image_format == "JPEG" else {}
            upright = ImageOps.exif_transpose(image)
            return encode(upright, image_format, jpeg)
    except PhotoRefused:
        raise
    except Exception as error:
        raise PhotoRefused("photo_unreadable", str(error)) from error


def jpeg_settings(image: Image.Image) -> dict[str, Any]:
    """The original's quantization tables and chroma subsampling, so re-encoding a JPEG costs
    next to no quality (and the PWA's own photos are not made larger)."""
    tables = getattr(image, "quantization", None)
    if not tables:
        return {"quality": 90}
    return {"qtables": tables, "subsampling": JpegImagePlugin.get_sampling(image)}


def encode(image: Image.Image, image_format: str, jpeg: dict[str, Any]) -> bytes:
    """Pixels only: `info` (EXIF, XMP, ICC, comments, text) is emptied before saving, and only
    what shapes the pixels (PIXEL_INFO) is kept."""
    clean = image.copy()
    clean.info = {key: value for key, value in image.info.items() if key in PIXEL_INFO}
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.save(out, "JPEG", **jpeg)
    elif image_format == "PNG":
        clean.save(out, "PNG")
    else:
        clean.save(out, "WEBP", quality=90)
    return out.getvalue()
