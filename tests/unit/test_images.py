"""Image validation, measurement and thumbnails, on real images generated with Pillow."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import tracemalloc
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image, ImageDraw, ImageOps

from zorivest_core.domain.errors import InvalidImageError
from zorivest_infra.images import (
    ACCEPTED_FORMATS,
    MAX_INPUT_BYTES,
    MAX_SIDE,
    THUMBNAIL_SIZE,
    analyse_image,
    inspect_image,
    make_thumbnail,
    prepare_image,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)
FAKE_ICC_PROFILE = b"not-a-real-icc-profile-but-stored-verbatim"


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    out = BytesIO()
    image.save(out, format=image_format, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def noisy_rgb(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def chart_screenshot(width: int = 2560, height: int = 1440) -> Image.Image:
    """A trading-chart-like screenshot: gradient background, grid, price line, labels."""
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB",
        (
            gradient.point(lambda v: 20 + v // 8),
            gradient.point(lambda v: 24 + v // 10),
            Image.new("L", (width, height), 38),
        ),
    )
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 80):
        draw.line([(x, 0), (x, height)], fill=(60, 64, 72))
    for y in range(0, height, 60):
        draw.line([(0, y), (width, y)], fill=(60, 64, 72))
        draw.text((5, y + 2), f"{4500 + y / 3:.2f}", fill=(200, 200, 200))
    points = [(x, height / 2 + height / 5 * math.sin(x / 97)) for x in range(0, width, 4)]
    draw.line(points, fill=(0, 200, 120), width=3)
    return image


def exif_with_orientation_and_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (1.0, 2.0, 3.0)}
    return exif


def top_red_bottom_blue(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0], size[1] // 2))
    return image


def half_transparent_rgba(size: tuple[int, int]) -> Image.Image:
    """Left half fully transparent, right half opaque red."""
    image = Image.new("RGBA", size, (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def assert_is_webp_without_metadata(data: bytes) -> Image.Image:
    image = decode(data)
    assert image.format == "WEBP"
    assert len(image.getexif()) == 0
    assert "exif" not in image.info
    assert "icc_profile" not in image.info
    assert "xmp" not in image.info
    return image


def pixel(image: Image.Image, point: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(point)
    assert isinstance(value, tuple)
    return value


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        actual,
        expected,
    )


@pytest.fixture(scope="module")
def rotated_jpeg() -> bytes:
    """Stored 400x200 (top red, bottom blue) with orientation 6, GPS tags and an ICC profile."""
    return encode(
        top_red_bottom_blue((400, 200)),
        "JPEG",
        quality=95,
        exif=exif_with_orientation_and_gps(6),
        icc_profile=FAKE_ICC_PROFILE,
    )


@pytest.fixture(scope="module")
def screenshot_png() -> bytes:
    return encode(chart_screenshot(), "PNG")


@pytest.fixture(scope="module")
def bomb_png() -> bytes:
    """10000x10000 pixels (100 MP) in a few kilobytes."""
    data = encode(Image.new("1", (10_000, 10_000)), "PNG", optimize=True)
    assert len(data) < 64 * 1024
    return data


# --- Measuring -----------------------------------------------------------------------------


def test_png_facts_are_measured_from_the_bytes() -> None:
    data = encode(noisy_rgb((320, 200)), "PNG")

    result = analyse_image(data)

    assert result.facts.mime_type == "image/png"
    assert (result.facts.width, result.facts.height) == (320, 200)
    assert result.facts.file_size == len(data)
    thumbnail = assert_is_webp_without_metadata(result.thumbnail)
    assert max(thumbnail.size) == THUMBNAIL_SIZE


@pytest.mark.parametrize(
    ("image_format", "mime_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_mime_type_comes_from_the_content_not_from_any_label(
    image_format: str, mime_type: str
) -> None:
    data = encode(noisy_rgb((64, 48)), image_format)

    facts = analyse_image(data).facts

    assert facts.mime_type == mime_type
    assert ACCEPTED_FORMATS[image_format] == mime_type
    assert (facts.width, facts.height) == (64, 48)


def test_jpeg_orientation_swaps_the_displayed_dimensions(rotated_jpeg: bytes) -> None:
    result = analyse_image(rotated_jpeg)

    assert result.facts.mime_type == "image/jpeg"
    assert (result.facts.width, result.facts.height) == (200, 400)
    assert result.facts.file_size == len(rotated_jpeg)


def test_jpeg_thumbnail_is_turned_upright_and_carries_no_exif_gps_or_icc(
    rotated_jpeg: bytes,
) -> None:
    expected = ImageOps.exif_transpose(decode(rotated_jpeg)).convert("RGB")
    expected.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))

    thumbnail = assert_is_webp_without_metadata(analyse_image(rotated_jpeg).thumbnail)

    assert thumbnail.size == expected.size == (100, 200)
    rgb = thumbnail.convert("RGB")
    for point in [(10, 100), (90, 100), (25, 10), (75, 190)]:
        assert_close(pixel(rgb, point), pixel(expected, point))


def test_large_jpeg_reports_full_dimensions_although_decoded_at_reduced_scale() -> None:
    data = encode(noisy_rgb((4000, 3000)), "JPEG", quality=80)

    result = analyse_image(data)

    assert (result.facts.width, result.facts.height) == (4000, 3000)
    assert decode(result.thumbnail).size == (200, 150)


def test_gif_is_measured_and_thumbnailed_from_its_first_frame() -> None:
    frames = [Image.new("RGB", (120, 80), RED), Image.new("RGB", (120, 80), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    result = analyse_image(data)

    assert result.facts.mime_type == "image/gif"
    assert (result.facts.width, result.facts.height) == (120, 80)
    thumbnail = assert_is_webp_without_metadata(result.thumbnail)
    assert thumbnail.size == (120, 80)
    assert_close(pixel(thumbnail.convert("RGB"), (60, 40)), RED)


def test_transparent_gif_thumbnail_keeps_transparency() -> None:
    image = Image.new("P", (40, 40), 1)
    image.putpalette([*RED, *BLUE] + [0, 0, 0] * 254)
    image.paste(0, (0, 0, 20, 40))
    data = encode(image, "GIF", transparency=0)

    thumbnail = decode(analyse_image(data).thumbnail)

    assert thumbnail.mode == "RGBA"
    assert pixel(thumbnail, (5, 20))[3] == 0
    assert_close(pixel(thumbnail, (35, 20)), (*BLUE, 255))


def test_webp_with_alpha_keeps_transparency_in_the_thumbnail() -> None:
    data = encode(half_transparent_rgba((400, 300)), "WEBP", lossless=True)

    result = analyse_image(data)

    assert result.facts.mime_type == "image/webp"
    thumbnail = decode(result.thumbnail)
    assert thumbnail.mode == "RGBA"
    assert thumbnail.size == (200, 150)
    assert pixel(thumbnail, (10, 75))[3] == 0
    assert_close(pixel(thumbnail, (190, 75)), (*RED, 255))


def test_palette_png_with_transparency_keeps_it() -> None:
    rgba = half_transparent_rgba((300, 100))
    data = encode(rgba.quantize(colors=4, method=Image.Quantize.FASTOCTREE), "PNG")
    assert decode(data).mode == "P"

    thumbnail = decode(analyse_image(data).thumbnail)

    assert thumbnail.mode == "RGBA"
    assert pixel(thumbnail, (10, 30))[3] == 0
    assert pixel(thumbnail, (190, 30))[3] == 255


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (100, 100), 32768)
    data = encode(image, "PNG")

    thumbnail = decode(analyse_image(data).thumbnail).convert("RGB")

    assert_close(pixel(thumbnail, (50, 50)), (128, 128, 128), 8)


def test_cmyk_jpeg_thumbnail_is_rgb() -> None:
    data = encode(Image.new("CMYK", (100, 60), (0, 255, 255, 0)), "JPEG")

    thumbnail = decode(analyse_image(data).thumbnail)

    assert thumbnail.mode == "RGB"
    assert thumbnail.size == (100, 60)


def test_inspect_image_returns_the_upright_full_resolution_image(rotated_jpeg: bytes) -> None:
    facts, image = inspect_image(rotated_jpeg)

    assert image.size == (facts.width, facts.height) == (200, 400)


# --- Thumbnails ----------------------------------------------------------------------------


def test_thumbnail_keeps_the_aspect_ratio(screenshot_png: bytes) -> None:
    result = analyse_image(screenshot_png)

    assert (result.facts.width, result.facts.height) == (2560, 1440)
    assert decode(result.thumbnail).size in {(200, 112), (200, 113)}


def test_small_image_is_never_upscaled() -> None:
    data = encode(noisy_rgb((50, 30)), "PNG")

    assert decode(analyse_image(data).thumbnail).size == (50, 30)


def test_make_thumbnail_fits_the_requested_size_and_is_webp() -> None:
    data = encode(noisy_rgb((640, 480)), "JPEG")

    thumbnail = assert_is_webp_without_metadata(make_thumbnail(data, 64))

    assert thumbnail.size == (64, 48)


def test_make_thumbnail_of_a_stored_thumbnail_shrinks_it_further(screenshot_png: bytes) -> None:
    stored = analyse_image(screenshot_png).thumbnail

    smaller = decode(make_thumbnail(stored, 100))

    assert smaller.format == "WEBP"
    assert max(smaller.size) == 100


@pytest.mark.parametrize("size", [0, -5, True])
def test_make_thumbnail_refuses_a_size_that_is_not_a_positive_pixel_count(size: int) -> None:
    data = encode(noisy_rgb((20, 20)), "PNG")

    with pytest.raises(ValueError, match="positive"):
        make_thumbnail(data, size)


# --- Refusing ------------------------------------------------------------------------------


def test_decompression_bomb_is_rejected_before_decoding(bomb_png: bytes) -> None:
    # Covers Python-level allocations only; the test below covers Pillow's own buffers.
    tracemalloc.start()
    try:
        with pytest.raises(InvalidImageError, match="10000x10000") as raised:
            analyse_image(bomb_png)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "decompression bomb" in str(raised.value)
    assert peak < 50 * 1024 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_decompression_bomb_is_rejected_within_a_small_address_space(
    bomb_png: bytes, tmp_path: Path
) -> None:
    # tracemalloc cannot see Pillow's pixel buffers (plain C malloc), so a separate process
    # caps its own address space at its current size plus 48 MB and then handles the bomb;
    # decoding it would need 100 MB and end in MemoryError instead of InvalidImageError.
    bomb_path = tmp_path / "bomb.png"
    bomb_path.write_bytes(bomb_png)
    script = """
import resource, sys
from zorivest_core.domain.errors import InvalidImageError
from zorivest_infra.images import analyse_image, prepare_image
data = open(sys.argv[1], "rb").read()
with open("/proc/self/statm") as statm:
    mapped = int(statm.read().split()[0]) * resource.getpagesize()
hard = resource.getrlimit(resource.RLIMIT_AS)[1]
resource.setrlimit(resource.RLIMIT_AS, (mapped + 48 * 1024 * 1024, hard))
for call in (analyse_image, prepare_image):
    try:
        call(data)
    except InvalidImageError:
        pass
    else:
        raise SystemExit("bomb accepted")
print("rejected")
"""
    completed = subprocess.run(
        [sys.executable, "-c", script, str(bomb_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "rejected"


def test_image_over_pillows_own_limit_is_rejected_without_a_warning(bomb_png: bytes) -> None:
    # 100 MP is above Pillow's warning threshold (~89.5 MP): the caller gets an error only.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidImageError, match="10000x10000"):
            analyse_image(bomb_png)


def test_side_longer_than_webp_can_encode_is_rejected() -> None:
    data = encode(Image.new("L", (MAX_SIDE + 1, 1)), "PNG")

    with pytest.raises(InvalidImageError, match=f"{MAX_SIDE + 1}x1"):
        analyse_image(data)


def test_longest_allowed_side_is_accepted() -> None:
    data = encode(Image.new("L", (MAX_SIDE, 2)), "PNG")

    result = analyse_image(data)

    assert (result.facts.width, result.facts.height) == (MAX_SIDE, 2)
    assert decode(result.thumbnail).size == (THUMBNAIL_SIZE, 1)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_truncated_image_is_rejected(image_format: str) -> None:
    data = encode(noisy_rgb((300, 200)), image_format)

    with pytest.raises(InvalidImageError):
        analyse_image(data[: len(data) // 2])


def test_truncated_png_is_rejected() -> None:
    data = encode(noisy_rgb((300, 200)), "PNG")

    with pytest.raises(InvalidImageError, match="truncated or damaged"):
        analyse_image(data[: len(data) // 2])


def test_png_with_damaged_pixel_data_is_rejected() -> None:
    data = bytearray(encode(noisy_rgb((300, 200)), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 100 : start + 400] = bytes(300)

    with pytest.raises(InvalidImageError, match="truncated or damaged"):
        analyse_image(bytes(data))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(random.Random(7).randbytes(4096), id="random-bytes"),
        pytest.param(b"This is a trade note, not a picture.\n" * 10, id="text"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(64), id="png-signature-then-garbage"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
    ],
)
def test_bytes_that_are_not_an_image_are_rejected(data: bytes) -> None:
    with pytest.raises(InvalidImageError, match="not a PNG, JPEG, GIF or WebP image"):
        analyse_image(data)


def test_empty_bytes_are_rejected() -> None:
    with pytest.raises(InvalidImageError, match="empty"):
        analyse_image(b"")


def test_input_over_the_size_limit_is_rejected_by_its_size() -> None:
    valid = encode(noisy_rgb((10, 10)), "PNG")
    data = valid + bytes(MAX_INPUT_BYTES + 1 - len(valid))

    with pytest.raises(InvalidImageError, match=str(MAX_INPUT_BYTES + 1)):
        analyse_image(data)


@pytest.mark.parametrize("data", [bytearray(b"\x89PNG"), "image.png", None])
def test_data_that_is_not_bytes_is_rejected(data: object) -> None:
    with pytest.raises(InvalidImageError, match="must be bytes"):
        analyse_image(cast(bytes, data))


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO", "PPM"])
def test_valid_image_in_an_unaccepted_format_is_rejected(image_format: str) -> None:
    data = encode(noisy_rgb((32, 32)), image_format)
    assert decode(data).format == image_format

    with pytest.raises(InvalidImageError, match="not a PNG, JPEG, GIF or WebP image"):
        analyse_image(data)


# --- Preparing for storage -----------------------------------------------------------------


def test_prepare_image_standardises_to_webp_keeping_alpha() -> None:
    data = encode(half_transparent_rgba((400, 300)), "PNG")

    prepared = assert_is_webp_without_metadata(prepare_image(data))

    assert prepared.mode == "RGBA"
    assert prepared.size == (400, 300)
    assert pixel(prepared, (10, 150))[3] == 0
    assert_close(pixel(prepared, (390, 150)), (*RED, 255))


def test_prepare_image_applies_orientation_and_strips_metadata(rotated_jpeg: bytes) -> None:
    expected = ImageOps.exif_transpose(decode(rotated_jpeg)).convert("RGB")

    prepared = assert_is_webp_without_metadata(prepare_image(rotated_jpeg))

    assert prepared.size == expected.size == (200, 400)
    rgb = prepared.convert("RGB")
    for point in [(20, 200), (180, 200), (50, 20), (150, 380)]:
        assert_close(pixel(rgb, point), pixel(expected, point))


def test_prepare_image_without_conversion_returns_the_bytes_unchanged(
    rotated_jpeg: bytes,
) -> None:
    assert prepare_image(rotated_jpeg, to_webp=False) == rotated_jpeg


def test_prepare_image_without_conversion_still_validates() -> None:
    data = encode(noisy_rgb((300, 200)), "PNG")

    with pytest.raises(InvalidImageError, match="truncated or damaged"):
        prepare_image(data[: len(data) // 2], to_webp=False)
