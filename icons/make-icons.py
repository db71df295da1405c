#!/usr/bin/env python3
"""Generate the Marquee app icons (Tauri bundler inputs) into this folder.

Design: a rounded-square tile with a deep crimson-to-magenta diagonal
gradient, a soft top sheen, and a white cinema ticket (notched sides,
perforation line) with a play triangle punched through it. Corners are
transparent. Everything is drawn at 1024 px (4x supersampled) and
downscaled with Lanczos.

Outputs: 32x32.png, 128x128.png, 128x128@2x.png (256), icon.png (512),
icon.ico (16-256 multi-size), icon.icns — all RGBA.

Requires Pillow (`pip install Pillow`). Deterministic; rerun any time:
    python3 icons/make-icons.py
"""
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
S = 4096  # supersampled canvas; the master is 1024


def lerp(a, b, t):
    return tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(len(a)))


def gradient(size, c0, c1):
    """Diagonal (top-left -> bottom-right) gradient, built small then scaled."""
    n = 256
    g = Image.new("RGB", (n, n))
    px = g.load()
    for y in range(n):
        for x in range(n):
            px[x, y] = lerp(c0, c1, (x + y) / (2 * (n - 1)))
    return g.resize((size, size), Image.BICUBIC)


def master():
    margin = int(S * 0.06)
    radius = int(S * 0.22)
    box = (margin, margin, S - margin, S - margin)

    # tile mask
    mask = Image.new("L", (S, S), 0)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius, fill=255)

    tile = gradient(S, (140, 8, 34), (222, 22, 140)).convert("RGBA")  # crimson -> magenta
    # top sheen
    sheen = Image.new("L", (S, S), 0)
    ImageDraw.Draw(sheen).ellipse((-S * 0.3, -S * 0.95, S * 1.3, S * 0.42), fill=24)
    sheen = sheen.filter(ImageFilter.GaussianBlur(S * 0.04))
    tile = Image.composite(Image.new("RGBA", (S, S), (255, 255, 255, 255)), tile, sheen)

    # ticket glyph: rounded rect with semicircular notches on both short sides
    tw, th = int(S * 0.60), int(S * 0.40)
    cx, cy = S // 2, int(S * 0.515)
    tx0, ty0 = cx - tw // 2, cy - th // 2
    ticket = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(ticket)
    d.rounded_rectangle((tx0, ty0, tx0 + tw, ty0 + th), int(S * 0.045), fill=255)
    nr = int(th * 0.16)
    d.ellipse((tx0 - nr, cy - nr, tx0 + nr, cy + nr), fill=0)
    d.ellipse((tx0 + tw - nr, cy - nr, tx0 + tw + nr, cy + nr), fill=0)
    # perforation line near the right end (stub)
    px = tx0 + int(tw * 0.76)
    dot = int(S * 0.014)
    n = 7
    for i in range(n):
        y = ty0 + th * (i + 0.5) / n
        d.ellipse((px - dot, y - dot, px + dot, y + dot), fill=0)
    # play triangle punched out of the main part
    pcx, pcy, pr = tx0 + int(tw * 0.40), cy, int(th * 0.30)
    tri = [(pcx - pr * 0.62, pcy - pr), (pcx - pr * 0.62, pcy + pr), (pcx + pr * 0.95, pcy)]
    d.polygon(tri, fill=0)

    # soft drop shadow under the ticket
    shadow = ticket.filter(ImageFilter.GaussianBlur(S * 0.02))
    shadow = ImageChops.offset(shadow, 0, int(S * 0.012)).point(lambda v: v * 0.45)
    tile = Image.composite(Image.new("RGBA", (S, S), (60, 0, 20, 255)), tile, shadow)
    tile = Image.composite(Image.new("RGBA", (S, S), (255, 255, 255, 255)), tile, ticket)

    tile.putalpha(mask)
    return tile.resize((1024, 1024), Image.LANCZOS)


def main():
    m = master()
    for name, px in [("32x32.png", 32), ("128x128.png", 128),
                     ("128x128@2x.png", 256), ("icon.png", 512)]:
        m.resize((px, px), Image.LANCZOS).save(HERE / name, optimize=True)
    m.save(HERE / "icon.ico",
           sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    m.save(HERE / "icon.icns")


if __name__ == "__main__":
    main()
