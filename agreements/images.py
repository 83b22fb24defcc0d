"""The images that appear on the signed agreement, drawn with Pillow, deterministically: the same input (and
font file) gives the same PNG bytes.

- :func:`signature_png` — a drawn signature (:class:`agreements.strokes.Drawing`), dark ink on a transparent
  background at the canvas size; a stroke's width follows the pen pressure when the device reports it.
- :func:`seal_png` — the organisation's round red seal (公章 style): a ring, the organisation's name along the
  upper arc, a five-pointed star in the centre and the seal's purpose below it, in a CJK font.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from agreements.strokes import Drawing

__all__ = ["SEAL_PURPOSE", "SEAL_SIZE", "seal_png", "signature_png"]

_INK = (20, 20, 40, 255)
_RED = (204, 20, 20, 255)
SEAL_SIZE = 480
SEAL_PURPOSE = "调解专用章"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def signature_png(drawing: Drawing) -> bytes:
    image = Image.new("RGBA", (drawing.width, drawing.height), (255, 255, 255, 0))
    pen = ImageDraw.Draw(image)
    base = max(2.0, min(drawing.width, drawing.height) / 100)
    for stroke in drawing.strokes:
        for index, point in enumerate(stroke):
            pressure = 0.5 if point.pressure is None else point.pressure
            width = base * (0.6 + pressure)
            r = width / 2
            pen.ellipse((point.x - r, point.y - r, point.x + r, point.y + r), fill=_INK)
            if index:
                before = stroke[index - 1]
                pen.line((before.x, before.y, point.x, point.y), fill=_INK, width=max(1, round(width)))
    return _png(image)


def _star(centre: float, radius: float) -> list[tuple[float, float]]:
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.382
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((centre + r * math.cos(angle), centre + r * math.sin(angle)))
    return points


def _glyph(char: str, font: ImageFont.FreeTypeFont, angle: float) -> Image.Image:
    size = int(font.size * 1.4)
    tile = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    ImageDraw.Draw(tile).text((size / 2, size / 2), char, font=font, fill=_RED, anchor="mm")
    return tile.rotate(angle, resample=Image.Resampling.BICUBIC)


def seal_png(organisation: str, font: Path) -> bytes:
    """The seal of ``organisation`` (its name, up to 24 characters shown) in ``font`` (TTF, or a TTC whose
    first face has CJK glyphs)."""
    size = SEAL_SIZE
    centre = size / 2
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    pen = ImageDraw.Draw(image)
    ring = size * 0.03
    pen.ellipse((ring, ring, size - ring, size - ring), outline=_RED, width=int(ring * 1.2))
    pen.polygon(_star(centre, size * 0.15), fill=_RED)
    name = organisation.strip()[:24] or "调解组织"
    letter = max(22, min(56, int(size * 1.9 / (len(name) + 2))))
    face = ImageFont.truetype(str(font), letter, index=0)
    # The name runs clockwise over the top, spread over up to 240 degrees, centred on the top.
    span = min(240.0, 20.0 * len(name) + 20)
    radius = centre - ring * 2.2 - letter * 0.8
    for index, char in enumerate(name):
        step = span / max(1, len(name) - 1) if len(name) > 1 else 0.0
        degrees = -90 - span / 2 + index * step if len(name) > 1 else -90.0
        theta = math.radians(degrees)
        x = centre + radius * math.cos(theta)
        y = centre + radius * math.sin(theta)
        glyph = _glyph(char, face, -(degrees + 90))
        image.alpha_composite(glyph, (round(x - glyph.width / 2), round(y - glyph.height / 2)))
    small = ImageFont.truetype(str(font), int(size * 0.075), index=0)
    pen.text((centre, centre + size * 0.25), SEAL_PURPOSE, font=small, fill=_RED, anchor="mm")
    return _png(image)
