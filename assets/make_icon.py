#!/usr/bin/env python3
"""Draws assets/ledgerscope.png (256x256): a ledger's stacked entries under a
scope's ring. Pure Python (no imaging library), 4x4 supersampled."""
import math
import struct
import zlib
from pathlib import Path

SIZE, SS = 256, 4
BG = (28, 52, 94)          # deep blue
ENTRY = (236, 241, 248)    # entries, near white
NEW = (255, 196, 64)       # the newest entry, amber
RING = (64, 200, 190)      # the scope, teal


def inside_rounded(x, y, x0, y0, x1, y1, r):
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def color_at(x, y):
    """The color at (x, y) in 0..256 coordinates, or None (transparent)."""
    # The scope's ring, over everything.
    d = math.hypot(x - 176, y - 176)
    if 44 <= d <= 60:
        return RING
    # Its handle.
    hx, hy = (x - 176) / math.sqrt(2), (y - 176) / math.sqrt(2)
    along, across = hx + hy, hx - hy
    if 60 <= along <= 100 and abs(across) <= 10:
        return RING
    if not inside_rounded(x, y, 8, 8, 248, 248, 44):
        return None
    # Stacked entries, the newest (bottom) in amber.
    for i, width in enumerate((150, 170, 130, 160, 110)):
        top = 44 + i * 34
        if inside_rounded(x, y, 40, top, 40 + width, top + 20, 10):
            return NEW if i == 4 else ENTRY
    return BG


def main():
    rows = []
    for py in range(SIZE):
        row = bytearray([0])
        for px in range(SIZE):
            acc = [0, 0, 0, 0]
            for sy in range(SS):
                for sx in range(SS):
                    c = color_at(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            n = SS * SS
            alpha = acc[3] // n
            if alpha:
                covered = acc[3] // 255
                row += bytes([acc[0] // covered, acc[1] // covered, acc[2] // covered, alpha])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    out = Path(__file__).with_name("ledgerscope.png")
    out.write_bytes(png)
    print(f"{out}: {len(png)} bytes")


if __name__ == "__main__":
    main()
