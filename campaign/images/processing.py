"""Pillow work on an upload: decode and check it, drop every piece of
metadata, and encode the widths a phone needs plus the social card.

Done in the request, not in a Celery task: measured on this 2-core machine
(shared, load average 3.5), a 12-megapixel JPEG (4000×3000, 5 MB) takes about
0.6 s from decoding to the last rendition (0.15 s decoding, the rest three
widths in WebP and JPEG and the card). An editor waits well under a second
and sees a refused file at once, beside the form, instead of a job that
fails later; a queue would add a pending state and its page for nothing.
"""

import hashlib
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from campaign.forms import lazy_number

# What we decode (sniffed by Pillow from the bytes, never from the name).
FORMATS = ("JPEG", "PNG", "WEBP")
# The widths a phone needs (1×, 2× and 3× screens, and wide screens); an
# image is never made wider than it is.
WIDTHS = (480, 960, 1600)
CARD_SIZE = (1200, 630)  # what Open Graph and X show in a large card
WEBP_OPTIONS = {"quality": 80, "method": 4}
JPEG_OPTIONS = {"quality": 82, "optimize": True, "progressive": True}


class ImageRefused(ValueError):
    """The upload cannot be used; ``message`` tells the editor what to do."""

    def __init__(self, message):
        """Keep the (lazy, translated) message for the form."""
        super().__init__(str(message))
        self.message = message


NOT_AN_IMAGE = _l("Choose a JPEG, PNG or WebP image.")
DAMAGED = _l("This image file is damaged or incomplete. Choose another file.")


def too_many_pixels(max_pixels: int):
    """What an editor reads when an image is larger than ``max_pixels``."""
    millions = lazy_number(max(1, max_pixels // 1_000_000))
    return _l(
        "This image has too many pixels (at most %(count)s million). "
        "Choose a smaller image.",
        count=millions,
    )


@dataclass(frozen=True)
class Rendition:
    """One encoded file, ready to store."""

    kind: str  # webp, jpeg or card
    width: int
    height: int
    data: bytes

    @property
    def digest(self) -> str:
        """The SHA-256 of the bytes (the file's ETag)."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Processed:
    """An upload turned into clean renditions."""

    width: int
    height: int
    renditions: tuple[Rendition, ...]

    @property
    def version(self) -> str:
        """A short hash of every rendition: the image's URLs change with it."""
        digest = hashlib.sha256()
        for rendition in self.renditions:
            digest.update(rendition.digest.encode())
        return digest.hexdigest()[:16]


def process(upload: bytes, max_pixels: int) -> Processed:
    """Decode ``upload`` and return its clean renditions, or raise ImageRefused."""
    picture = clean(decode(upload, max_pixels))
    return Processed(picture.width, picture.height, tuple(renditions(picture)))


def decode(upload: bytes, max_pixels: int) -> Image.Image:
    """The upload's pixels, fully decoded; refused if it is not a JPEG, PNG
    or WebP, is damaged, or is larger than ``max_pixels`` (a decompression
    bomb: a small file that would fill the memory once decoded)."""
    try:
        # Reads the header only; Pillow's own bomb limit (MAX_IMAGE_PIXELS)
        # warns above it and raises above twice it, and ours is checked
        # before a single pixel is decoded.
        # WeasyPrint (the petition PDF) sets Pillow's process-wide switch to
        # fill truncated images with grey when it is imported; its PDFs hold
        # no images, and an upload cut short must be refused, not padded.
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        picture = Image.open(io.BytesIO(upload), formats=FORMATS)
        if picture.width * picture.height > max_pixels:
            raise Image.DecompressionBombError(picture.size)
        picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(too_many_pixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageRefused(NOT_AN_IMAGE) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRefused(DAMAGED) from None
    return picture


def clean(picture: Image.Image) -> Image.Image:
    """The picture upright, in sRGB, as a new image made of its pixels alone.

    EXIF orientation is applied first (a phone photo taken sideways stays
    upright), colours are converted from an embedded ICC profile to sRGB;
    then only the pixels are copied into a fresh image, so no EXIF (GPS,
    camera, serial numbers, time), XMP, IPTC, ICC profile or comment can
    reach a file we write.
    """
    upright = ImageOps.exif_transpose(picture)
    rgb = _in_srgb(_flattened(upright))
    # Pillow copies ``info`` (where EXIF, XMP and ICC sit) into every resized
    # copy, and some encoders read it: a fresh image has none to copy.
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)
    return fresh


def _flattened(picture: Image.Image) -> Image.Image:
    """RGB(A) pixels; transparency laid over white (JPEG has none)."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba)
    return picture


def _in_srgb(picture: Image.Image) -> Image.Image:
    """The picture in RGB, converted to sRGB if it carries another profile."""
    profile = picture.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            target = ImageCms.createProfile("sRGB")
            mode = "RGBA" if picture.mode == "RGBA" else "RGB"
            picture = ImageCms.profileToProfile(
                picture, source, target, outputMode=mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the colours as they are
    return picture.convert("RGB")


def widths_for(width: int) -> list[int]:
    """The rendition widths for an image ``width`` pixels wide (never wider)."""
    return [w for w in WIDTHS if w <= width] or [width]


def renditions(picture: Image.Image):
    """Each width in WebP and JPEG, widest first, then the 1200×630 card."""
    source = picture
    for width in sorted(widths_for(picture.width), reverse=True):
        height = max(1, round(picture.height * width / picture.width))
        # Each smaller width from the one above: much faster, as sharp.
        source = source.resize((width, height), Image.Resampling.LANCZOS)
        yield Rendition("webp", width, height, encode(source, "WEBP", WEBP_OPTIONS))
        yield Rendition("jpeg", width, height, encode(source, "JPEG", JPEG_OPTIONS))
    card = ImageOps.fit(picture, CARD_SIZE, Image.Resampling.LANCZOS)
    yield Rendition("card", *CARD_SIZE, encode(card, "JPEG", JPEG_OPTIONS))


def encode(picture: Image.Image, fmt: str, options: dict) -> bytes:
    """The picture's bytes in ``fmt`` (no metadata: none is passed or held)."""
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()
