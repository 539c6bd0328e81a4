#!/usr/bin/env python3
"""Draws the app icons (icon-192.png, icon-512.png, icon-maskable-512.png)
from the same shapes as web/favicon.svg: a white speech bubble on penpen
blue. Plain Python (zlib + struct), so no image tool is needed; run it again
after changing the shapes and commit the PNGs."""
import struct
import zlib

BLUE = (0x1F, 0x6F, 0xEB)
WHITE = (0xFF, 0xFF, 0xFF)


def rounded_rect(x, y, x0, y0, x1, y1, r):
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def bubble(x, y):
    """The favicon's bubble in its 64-unit box: a rounded body and a tail."""
    if rounded_rect(x, y, 16, 14, 48, 42, 8):
        return True
    # The tail: from (21, 42) down to (21, 50) and back up to (30, 42).
    if 42 <= y <= 50 and x >= 21:
        return x <= 30 - (y - 42) * 9 / 8
    return False


def colour(x, y, maskable):
    """Colour at (x, y) in 64 units, or None where the icon is transparent."""
    if maskable:
        # Full bleed (the launcher cuts its own shape); the bubble shrinks
        # into the safe zone, the centre 80 %.
        u, v = 32 + (x - 32) / 0.8, 32 + (y - 32) / 0.8
        return WHITE if bubble(u, v) else BLUE
    if not rounded_rect(x, y, 0, 0, 64, 64, 14):
        return None
    return WHITE if bubble(x, y) else BLUE


def draw(size, maskable):
    rows = []
    samples = 4  # 4 x 4 supersampling for smooth edges
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            r = g = b = a = 0
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) * 64 / size
                    y = (py + (sy + 0.5) / samples) * 64 / size
                    c = colour(x, y, maskable)
                    if c is not None:
                        r += c[0]
                        g += c[1]
                        b += c[2]
                        a += 1
            n = samples * samples
            if a:
                row += bytes([r // a, g // a, b // a, 255 * a // n])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


if __name__ == "__main__":
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    for name, size, maskable in [
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ]:
        with open(os.path.join(here, name), "wb") as out:
            out.write(draw(size, maskable))
