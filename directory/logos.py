"""Participant logos: what uploads are accepted, and the small copy pages show.

Only PNG, JPEG and WebP are accepted, checked by decoding the file with Pillow (not by
its name or declared type). SVG is refused: it can carry scripts. The original is kept
in the default storage (``STORAGES["default"]``) under ``logos/``; pages show a
re-encoded PNG thumbnail of at most ``THUMBNAIL_SIZE`` pixels, written next to it under
``logos/thumbs/`` when the logo is saved, so any storage backend serves it as a plain
file and no request ever resizes an image.
"""

import io
import posixpath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
MAX_LOGO_BYTES = 1024 * 1024
MAX_DIMENSION = 2000
THUMBNAIL_SIZE = 128
THUMBNAIL_DIR = "logos/thumbs"


def validate_logo(file):
    """Raise ValidationError unless ``file`` is a PNG, JPEG or WebP image within the
    size and dimension limits."""
    if file.size > MAX_LOGO_BYTES:
        raise ValidationError(
            _("The logo is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(MAX_LOGO_BYTES)}
        )
    file.seek(0)
    head = file.read(512).lstrip()
    file.seek(0)
    if head.startswith((b"<", b"\xef\xbb\xbf<")) or file.name.lower().endswith((".svg", ".svgz")):
        raise ValidationError(_("SVG logos are not accepted: upload a PNG, JPEG or WebP image."))
    try:
        with Image.open(file) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("This file is not a PNG, JPEG or WebP image.")) from None
    finally:
        file.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted: upload a PNG, JPEG or WebP image.")
            % {"format": image_format}
        )
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise ValidationError(
            _("The logo is %(width)s×%(height)s pixels; the limit is %(max)s×%(max)s.")
            % {"width": width, "height": height, "max": MAX_DIMENSION}
        )


def thumbnail_name(logo_name):
    """The storage name of the thumbnail of the logo stored as ``logo_name``."""
    # The whole base name (extension included): acme.png and acme.jpg stay apart.
    return f"{THUMBNAIL_DIR}/{posixpath.basename(logo_name)}.png"


def save_thumbnail(logo):
    """Write the thumbnail of ``logo`` (a stored ImageField file) to the logo's storage,
    replacing an older one of the same name."""
    logo.open("rb")
    try:
        with Image.open(logo) as image:
            image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            small = image.convert("RGBA")
    finally:
        logo.close()
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    name = thumbnail_name(logo.name)
    if logo.storage.exists(name):
        logo.storage.delete(name)
    logo.storage.save(name, ContentFile(out.getvalue()))
