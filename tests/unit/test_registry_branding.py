"""The branding setting's checks (registry, pure): the company name's length, and a logo that is a
PNG or JPEG by its magic bytes, at most 256 KB, of sane dimensions and fully decodable."""

from __future__ import annotations

import io
import zlib

from PIL import Image

from baobei.core.errors import FieldViolation
from services.registry import branding


def image(fmt: str, size: tuple[int, int] = (120, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def refused(data: bytes) -> str:
    out = branding.read_logo(data)
    assert isinstance(out, FieldViolation), out
    assert out.field == "logo"
    return out.en


def test_company_name() -> None:
    assert branding.company_name_violations("华东某某集团") == []
    assert branding.company_name_violations("名" * 100) == []
    for bad in ("", "   ", "名" * 101, "公司\x00名"):
        (v,) = branding.company_name_violations(bad)
        assert v.field == "company_name"


def test_png_and_jpeg_are_read_with_their_size() -> None:
    assert branding.read_logo(image("PNG")) == branding.Logo("image/png", 120, 40)
    assert branding.read_logo(image("JPEG", (64, 32))) == branding.Logo("image/jpeg", 64, 32)


def test_other_types_and_broken_files_are_refused() -> None:
    assert "PNG or JPEG" in refused(image("GIF"))
    assert "PNG or JPEG" in refused(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert "PNG or JPEG" in refused(image("PNG")[1:])  # no magic bytes
    png = image("PNG")
    assert "cannot be decoded" in refused(png[: len(png) // 2])  # truncated: the header reads, the pixels not
    jpeg = image("JPEG")
    assert "cannot be decoded" in refused(jpeg[:30])
    # a JPEG's magic bytes on a PNG body: read as what the bytes say, and refused
    assert "cannot be decoded" in refused(branding.JPEG_MAGIC + png[3:])


def test_size_limits() -> None:
    assert "256 KB" in refused(branding.PNG_MAGIC + b"\0" * branding.MAX_LOGO_BYTES)
    # A tiny file claiming huge dimensions (a decompression bomb) is refused before decoding.
    big = image("PNG", (branding.MAX_SIDE + 1, 8))
    assert len(big) < branding.MAX_LOGO_BYTES and "pixels" in refused(big)
    # 20000×20000 (1.2 GB of pixels) in a few hundred bytes: never decoded
    ihdr = (20000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    body = zlib.compress(b"\0" * 60001 * 10, 9)
    bomb = branding.PNG_MAGIC + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")
    assert len(bomb) < 4096 and "pixels" in refused(bomb)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
