"""Validation, measurement and thumbnails of attached images (Pillow only, no storage).

Every fact about an image (its type, its size as displayed, its byte count) is measured from
the bytes; nothing a caller says about an image is trusted. Hostile input is refused in the
order that keeps refusing it cheap: the byte count first, then the format Pillow recognises
from the file signature, then the dimensions read from the header, and only then the one full
decode. A few kilobytes that would expand to gigabytes of pixels are therefore refused before
any pixel memory is allocated.

Pillow's own limits are left untouched (``Image.MAX_IMAGE_PIXELS``,
``ImageFile.LOAD_TRUNCATED_IMAGES``): other code in the process may rely on them, and this
module's limits are stricter anyway.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from types import MappingProxyType
from typing import Final

from PIL import Image, ImageFile, UnidentifiedImageError

from zorivest_core.domain.entities import THUMBNAIL_SIZE
from zorivest_core.domain.errors import InvalidImageError

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "THUMBNAIL_SIZE",
    "AnalysedImage",
    "ImageFacts",
    "analyse_image",
    "inspect_image",
    "make_thumbnail",
    "prepare_image",
]

MAX_INPUT_BYTES: Final = 20 * 1024 * 1024
MAX_PIXELS: Final = 50_000_000
# The largest side libwebp can encode; a wider image could be stored but never thumbnailed.
MAX_SIDE: Final = 16_383

ACCEPTED_FORMATS: Final[Mapping[str, str]] = MappingProxyType(
    {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
)

THUMBNAIL_QUALITY: Final = 80
PREPARED_QUALITY: Final = 85
# Method 4 is libwebp's default; at thumbnail size any method costs about a millisecond, and
# on full-size images lower methods buy little speed for visibly larger files.
_WEBP_METHOD: Final = 4

# What Pillow raises on malformed input, wherever in the parser it notices. Anything else
# (TypeError, MemoryError, ...) would be a bug or an environment problem and must surface.
_DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

_ORIENTATION_TAG: Final = 0x0112
_TRANSPOSE_FOR_ORIENTATION: Final[Mapping[int, Image.Transpose]] = MappingProxyType(
    {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
)
_SIDE_SWAPPING_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})

_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# Modes whose resize is correct as they are, so conversion can wait until the image is small.
# "P" and "1" are not among them: Pillow resizes those with nearest-neighbour only.
_RESIZE_FIRST_MODES: Final = frozenset({"RGB", "RGBA", "L", "LA"})
_SIXTEEN_BIT_MODES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What an image is, measured from its bytes.

    Attributes:
        mime_type: The MIME type of the format Pillow recognised, e.g. ``"image/png"``.
        width: Width in pixels as displayed, i.e. after the EXIF orientation is applied.
        height: Height in pixels as displayed.
        file_size: Length of the raw bytes.
    """

    mime_type: str
    width: int
    height: int
    file_size: int


@dataclass(frozen=True, slots=True)
class AnalysedImage:
    """An image's measured facts and its thumbnail, both from a single decode.

    Attributes:
        facts: The measured facts of the original bytes.
        thumbnail: A WebP image whose longest side is at most the requested size.
    """

    facts: ImageFacts
    thumbnail: bytes


@dataclass(frozen=True, slots=True)
class _Decoded:
    facts: ImageFacts
    image: Image.Image
    orientation: int


def inspect_image(data: bytes) -> tuple[ImageFacts, Image.Image]:
    """Validate and fully decode image bytes.

    Args:
        data: The raw bytes of a PNG, JPEG, GIF or WebP image.

    Returns:
        The measured facts and the decoded image at full resolution, oriented as displayed
        (EXIF orientation applied), in the mode Pillow decoded it to. For an animated image
        this is the first frame.

    Raises:
        InvalidImageError: The bytes are empty, too large, not an accepted format, too many
            pixels, or truncated or damaged.
    """
    decoded = _decode(data, shrink_towards=None)
    return decoded.facts, _orient(decoded.image, decoded.orientation)


def analyse_image(data: bytes, *, thumbnail_size: int = THUMBNAIL_SIZE) -> AnalysedImage:
    """Validate image bytes, measure them and make a WebP thumbnail, decoding only once.

    Args:
        data: The raw bytes of a PNG, JPEG, GIF or WebP image.
        thumbnail_size: The largest side of the thumbnail, in pixels.

    Returns:
        The measured facts and a WebP thumbnail (aspect ratio kept, never upscaled,
        transparency kept, orientation applied, no metadata).

    Raises:
        InvalidImageError: The bytes are empty, too large, not an accepted format, too many
            pixels, or truncated or damaged.
        ValueError: ``thumbnail_size`` is not a positive number of pixels.
    """
    _check_thumbnail_size(thumbnail_size)
    decoded = _decode(data, shrink_towards=thumbnail_size)
    thumbnail = _thumbnail(decoded.image, decoded.orientation, thumbnail_size)
    return AnalysedImage(
        facts=decoded.facts, thumbnail=_encode_webp(thumbnail, quality=THUMBNAIL_QUALITY)
    )


def make_thumbnail(data: bytes, max_size: int) -> bytes:
    """Make a WebP thumbnail of image bytes.

    Args:
        data: The raw bytes of a PNG, JPEG, GIF or WebP image (a stored WebP thumbnail is
            fine too).
        max_size: The largest side of the thumbnail, in pixels.

    Returns:
        A WebP image whose sides are at most ``max_size``; an image already that small
        keeps its size.

    Raises:
        InvalidImageError: The bytes are not an acceptable image (see ``analyse_image``).
        ValueError: ``max_size`` is not a positive number of pixels.
    """
    return analyse_image(data, thumbnail_size=max_size).thumbnail


def prepare_image(raw_bytes: bytes, *, to_webp: bool = True) -> bytes:
    """Validate image bytes for ingest and, by default, standardise them to WebP.

    The WebP keeps the full resolution and any transparency, has the EXIF orientation applied
    to its pixels, and carries no metadata (no EXIF, GPS or ICC profile). An animated GIF or
    WebP becomes its first frame.

    Args:
        raw_bytes: The raw bytes of a PNG, JPEG, GIF or WebP image.
        to_webp: When false, the bytes are only validated (fully decoded) and returned as
            they are.

    Returns:
        WebP bytes at quality 85, or ``raw_bytes`` itself when ``to_webp`` is false.

    Raises:
        InvalidImageError: The bytes are empty, too large, not an accepted format, too many
            pixels, or truncated or damaged.
    """
    decoded = _decode(raw_bytes, shrink_towards=None)
    if not to_webp:
        return raw_bytes
    image = _orient(_to_output_mode(decoded.image), decoded.orientation)
    return _encode_webp(image, quality=PREPARED_QUALITY)


def _check_thumbnail_size(size: object) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"thumbnail size must be a positive number of pixels, got {size!r}")


def _check_bytes(data: object) -> bytes:
    if not isinstance(data, bytes):
        raise InvalidImageError(
            f"image data must be bytes, got {type(data).__name__}",
            field="data",
            value=type(data).__name__,
        )
    size = len(data)
    if size == 0:
        raise InvalidImageError("image data is empty (0 bytes)", field="data", value=0)
    if size > MAX_INPUT_BYTES:
        raise InvalidImageError(
            f"image is {size} bytes, over the limit of {MAX_INPUT_BYTES} bytes (20 MiB)",
            field="data",
            value=size,
        )
    return data


def _check_dimensions(width: int, height: int) -> None:
    dimensions = f"{width}x{height}"
    if width < 1 or height < 1:
        raise InvalidImageError(
            f"image is {dimensions} pixels, which has no area", field="data", value=dimensions
        )
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InvalidImageError(
            f"image is {dimensions} pixels; no side may exceed {MAX_SIDE} pixels",
            field="data",
            value=dimensions,
        )
    # Pillow's own limit is honoured too when someone has set it lower than ours: its
    # warning for such images is silenced while opening, and becomes this error instead.
    limit = MAX_PIXELS
    if Image.MAX_IMAGE_PIXELS is not None:
        limit = min(limit, Image.MAX_IMAGE_PIXELS)
    if width * height > limit:
        raise InvalidImageError(
            f"image is {dimensions} pixels ({width * height} pixels), over the limit of "
            f"{limit} pixels (possible decompression bomb)",
            field="data",
            value=dimensions,
        )


def _damaged(exc: BaseException) -> InvalidImageError:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return InvalidImageError(
            f"image has too many pixels (possible decompression bomb): {exc}", field="data"
        )
    return InvalidImageError(
        f"image data is truncated or damaged ({type(exc).__name__}: {exc})", field="data"
    )


def _decode(data: object, *, shrink_towards: int | None) -> _Decoded:
    """Validate and decode once; with ``shrink_towards``, JPEG decodes at a reduced scale."""
    raw = _check_bytes(data)
    with warnings.catch_warnings():
        # Opening reads only the header. Pillow warns there about images above its limit,
        # but the size check below refuses those anyway and names their dimensions.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = _open(raw)
    width, height = image.size
    _check_dimensions(width, height)
    # MPO (a camera JPEG with extra pictures appended) is still a JPEG to anyone viewing it.
    image_format = "JPEG" if image.format == "MPO" else (image.format or "")
    if image_format not in ACCEPTED_FORMATS:
        raise InvalidImageError(
            "image data is not a PNG, JPEG, GIF or WebP image", field="data", value=image.format
        )
    if image_format == "JPEG":
        _check_jpeg_payload(len(raw), width, height)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if shrink_towards is not None and image_format == "JPEG":
                # libjpeg can decode at 1/2, 1/4 or 1/8 scale, which skips most of the work;
                # twice the target keeps enough detail for a good downscale afterwards.
                image.draft(None, (2 * shrink_towards, 2 * shrink_towards))
            image.load()
            orientation = _orientation(image)
        except _DECODE_ERRORS as exc:
            raise _damaged(exc) from exc
    if orientation in _SIDE_SWAPPING_ORIENTATIONS:
        width, height = height, width
    facts = ImageFacts(
        mime_type=ACCEPTED_FORMATS[image_format],
        width=width,
        height=height,
        file_size=len(raw),
    )
    return _Decoded(facts=facts, image=image, orientation=orientation)


# Every 8x8 block of a Huffman-coded JPEG costs at least one bit (its DC code), so a real
# scan holds at least width*height/512 bytes. libjpeg silently pads a scan that ends early
# with grey, so a header claiming far more pixels than the data can hold is refused before
# decoding. The divisor leaves an 8x margin below that floor.
_JPEG_MIN_PIXELS_PER_BYTE_LIMIT = 4096


def _check_jpeg_payload(size: int, width: int, height: int) -> None:
    if size * _JPEG_MIN_PIXELS_PER_BYTE_LIMIT < width * height:
        raise InvalidImageError(
            f"JPEG data of {size} bytes cannot hold a {width}x{height} image: "
            "it is truncated or damaged",
            field="data",
            value=f"{width}x{height}",
        )


def _open(raw: bytes) -> ImageFile.ImageFile:
    try:
        return Image.open(BytesIO(raw), formats=list(ACCEPTED_FORMATS))
    except UnidentifiedImageError as exc:
        raise InvalidImageError(
            "image data is not a PNG, JPEG, GIF or WebP image", field="data"
        ) from exc
    except _DECODE_ERRORS as exc:
        raise _damaged(exc) from exc


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(_ORIENTATION_TAG, 1)
    if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION:
        return value
    return 1


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    # Same mapping as ImageOps.exif_transpose, but driven by the orientation already read for
    # the facts, and applicable after shrinking, where turning the pixels is cheap.
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def _to_output_mode(image: Image.Image) -> Image.Image:
    """Return ``image`` as RGBA when it has any transparency, else as RGB."""
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow's own conversion clips 16-bit samples at 255 instead of scaling them.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    target = "RGBA" if _has_alpha(image) else "RGB"
    return image if image.mode == target else image.convert(target)


def _thumbnail(image: Image.Image, orientation: int, max_size: int) -> Image.Image:
    if image.mode not in _RESIZE_FIRST_MODES or "transparency" in image.info:
        image = _to_output_mode(image)
    # The bounding box is square, so shrinking before turning gives the same result as
    # turning first, at a fraction of the cost.
    image.thumbnail((max_size, max_size))
    return _orient(_to_output_mode(image), orientation)


def _encode_webp(image: Image.Image, *, quality: int) -> bytes:
    out = BytesIO()
    # No exif= or icc_profile= is passed, so no metadata reaches the output.
    image.save(out, format="WEBP", quality=quality, method=_WEBP_METHOD)
    return out.getvalue()
