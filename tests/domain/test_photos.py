"""Photos are served without anything that gives away where they were taken; a photo that
cannot be read in full is refused, never passed through as it came."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from server.domain.photos import PhotoRefused, servable_photo
from tests.photo_files import (
    JPEG_METADATA,
    PNG_METADATA,
    WEBP_METADATA,
    WHERE,
    assert_tells_nothing_of_where,
    jpeg,
    jpeg_cut_after_exif,
    png,
    webp,
)

BUILDERS = {"image/jpeg": jpeg, "image/png": png, "image/webp": webp}
METADATA = {"image/jpeg": JPEG_METADATA, "image/png": PNG_METADATA, "image/webp": WEBP_METADATA}


def decoded(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


@pytest.mark.parametrize("content_type", sorted(BUILDERS))
def test_a_camera_photo_loses_every_trace_of_where_it_was_taken(content_type):
    photo = BUILDERS[content_type]()
    assert WHERE in photo  # the camera's file says where
    served = servable_photo(photo, content_type)
    assert_tells_nothing_of_where(served, content_type)
    assert decoded(served).size == decoded(photo).size


@pytest.mark.parametrize(
    "kind", ["exif", "xmp", "extended_xmp", "comment", "photoshop", "fill", "trailer"]
)
def test_each_hiding_place_of_a_jpeg_is_emptied(kind):
    """The earlier byte surgery gave up on a fill byte (and served the original), and kept
    extended XMP and whatever followed the end of the image."""
    photo = jpeg((kind, "exif"))
    assert_tells_nothing_of_where(servable_photo(photo, "image/jpeg"), "image/jpeg")


@pytest.mark.parametrize("kind", ["exif", "xmp", "raw_exif", "raw_xmp", "text"])
def test_each_hiding_place_of_a_png_is_emptied(kind):
    served = servable_photo(png((kind,)), "image/png")
    assert_tells_nothing_of_where(served, "image/png")


def test_a_jpeg_that_ends_after_its_exif_is_refused_not_served():
    with pytest.raises(PhotoRefused) as refused:
        servable_photo(jpeg_cut_after_exif(), "image/jpeg")
    assert refused.value.code == "photo_unreadable"


@pytest.mark.parametrize("content_type", sorted(BUILDERS))
def test_a_photo_cut_short_is_refused(content_type):
    photo = BUILDERS[content_type](())
    with pytest.raises(PhotoRefused) as refused:
        servable_photo(photo[: len(photo) * 2 // 3], content_type)
    assert refused.value.code == "photo_unreadable"


def test_a_photo_of_another_type_than_declared_is_refused():
    with pytest.raises(PhotoRefused):
        servable_photo(png(), "image/jpeg")


def test_a_photo_taken_sideways_is_served_upright():
    """EXIF orientation 6 (turn 90° clockwise to view): the pixels are turned before the EXIF
    goes, so the photo still shows the right way up."""
    photo = jpeg(("exif",), size=(64, 32), orientation=6)
    served = decoded(servable_photo(photo, "image/jpeg"))
    assert served.size == (32, 64)
    top, bottom = served.getpixel((16, 8)), served.getpixel((16, 56))
    assert top[0] > 150 and top[2] < 100  # the red left half is now on top
    assert bottom[2] > 150 and bottom[0] < 100


def test_a_phone_photo_keeps_its_quality():
    """The PWA's own JPEGs are re-encoded with their own quantization tables."""
    out = io.BytesIO()
    Image.effect_noise((320, 240), 60).convert("RGB").save(out, "JPEG", quality=80)
    photo = out.getvalue()
    served = servable_photo(photo, "image/jpeg")
    assert len(served) < len(photo) * 1.1
    assert decoded(served).quantization == decoded(photo).quantization


def test_a_photo_with_too_many_pixels_is_refused():
    out = io.BytesIO()
    Image.new("1", (10_000, 7_000)).save(out, "PNG")
    with pytest.raises(PhotoRefused) as refused:
        servable_photo(out.getvalue(), "image/png")
    assert refused.value.code == "photo_too_many_pixels"


@st.composite
def camera_photos(draw: st.DrawFn) -> tuple[bytes, str, tuple[int, int]]:
    content_type = draw(st.sampled_from(sorted(BUILDERS)))
    metadata = tuple(draw(st.sets(st.sampled_from(METADATA[content_type]))))
    size = (draw(st.integers(1, 80)), draw(st.integers(1, 80)))
    orientation = draw(st.one_of(st.none(), st.integers(1, 8)))
    seed = draw(st.integers(0, 1000))
    photo = BUILDERS[content_type](metadata, size=size, seed=seed, orientation=orientation)
    upright = size[::-1] if orientation in (5, 6, 7, 8) else size
    return photo, content_type, upright


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(camera_photos())
def test_property_no_served_photo_tells_where_it_was_taken(case):
    photo, content_type, upright = case
    served = servable_photo(photo, content_type)
    assert_tells_nothing_of_where(served, content_type)
    assert decoded(served).size == upright


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(camera_photos(), st.randoms(use_true_random=False), st.integers(1, 8))
def test_property_a_damaged_photo_is_refused_or_served_clean(case, rnd: random.Random, hits):
    """Bytes flipped, cut or repeated anywhere: the answer is a refusal or a clean file,
    never an error of another kind. (A clean file may equal the damaged one: a small JPEG
    that lost its metadata to the damage can be exactly what the encoder writes again.)"""
    photo, content_type, _ = case
    damaged = bytearray(photo)
    for _ in range(hits):
        at = rnd.randrange(len(damaged))
        action = rnd.choice(("flip", "cut", "repeat"))
        if action == "flip":
            damaged[at] ^= 1 << rnd.randrange(8)
        elif action == "cut":
            del damaged[at : at + rnd.randrange(1, 64)]
        else:
            damaged[at:at] = damaged[at : at + rnd.randrange(1, 64)]
    try:
        served = servable_photo(bytes(damaged), content_type)
    except PhotoRefused as refused:
        assert refused.code == "photo_unreadable"
        return
    assert_tells_nothing_of_where(served, content_type)
