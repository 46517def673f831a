"""Branding printed on documents: the company's name and logo, and what makes them acceptable.

A logo is a PNG or JPEG of at most 256 KB: the magic bytes name the type (never the client's
word), then Pillow reads the header and decodes the pixels, so a truncated file, a decompression
bomb or an absurd size is refused before it is stored and later printed. Pure: no storage."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from baobei.core.errors import FieldViolation

DEFAULT_COMPANY = "报备 Baobei"
MAX_NAME = 100
MAX_LOGO_BYTES = 256 * 1024
MAX_SIDE = 4096  # pixels: far beyond a letterhead logo, small enough to decode safely
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class Logo:
    content_type: str
    width: int
    height: int


def company_name_violations(name: str) -> list[FieldViolation]:
    value = name.strip()
    if not value:
        return [FieldViolation("company_name", "公司名称不能为空", "the company name is required")]
    if len(value) > MAX_NAME:
        return [FieldViolation("company_name", f"公司名称不能超过 {MAX_NAME} 个字符",
                               f"the company name must be at most {MAX_NAME} characters")]
    if any(not ch.isprintable() for ch in value):
        return [FieldViolation("company_name", "公司名称不能包含控制字符", "the company name has control characters")]
    return []


def _bad(zh: str, en: str) -> FieldViolation:
    return FieldViolation("logo", zh, en)


def _too_large() -> FieldViolation:
    side = f"{MAX_SIDE}×{MAX_SIDE}"
    return _bad(f"Logo 尺寸须在 {side} 像素以内", f"the logo must be at most {side} pixels")


def read_logo(data: bytes) -> Logo | FieldViolation:
    """The logo's type and size, or why it is refused (field ``logo``)."""
    if len(data) > MAX_LOGO_BYTES:
        kb = MAX_LOGO_BYTES // 1024
        return _bad(f"Logo 不能超过 {kb} KB", f"the logo must be at most {kb} KB")
    if data.startswith(PNG_MAGIC):
        expected = "PNG"
    elif data.startswith(JPEG_MAGIC):
        expected = "JPEG"
    else:
        return _bad("Logo 须为 PNG 或 JPEG 图片", "the logo must be a PNG or JPEG image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as img:
                width, height = img.size
                if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                    return _too_large()
                img.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _too_large()
    except (OSError, SyntaxError, ValueError):
        return _bad("Logo 图片无法解码", "the logo image cannot be decoded")
    return Logo(content_type=FORMATS[expected], width=width, height=height)
