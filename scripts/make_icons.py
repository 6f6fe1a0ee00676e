"""Draw the site's icons (favicon, home-screen and manifest icons) into tracker/static/icons.

The SVG is the drawing itself; the PNGs and the ICO are the same shapes drawn by Pillow at
each size (no SVG renderer needed). Run again after changing the drawing:
`.venv/bin/python scripts/make_icons.py`.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "tracker" / "static" / "icons"
GREEN, DARK, ORANGE, WHITE = "#1f6f43", "#0e3b23", "#f39c12", "#ffffff"

# On a 64-unit square: the caldera's rim (Aso's five peaks) and a road under repair.
MOUNTAIN = [(4, 46), (16, 26), (22, 32), (30, 18), (38, 30), (44, 24), (60, 46)]
ROAD = [(14, 58), (28, 46), (36, 46), (50, 58)]
STRIPES = [((22, 52), (26, 52)), ((31, 49), (33, 49)), ((38, 52), (42, 52))]

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="12" fill="{GREEN}"/>
<polygon points="{" ".join(f"{x},{y}" for x, y in MOUNTAIN)}" fill="{DARK}"/>
<polygon points="{" ".join(f"{x},{y}" for x, y in ROAD)}" fill="{ORANGE}"/>
{"".join(f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" stroke="{WHITE}" stroke-width="2"/>' for a, b in STRIPES)}
</svg>
"""


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    """Draw the icon at `size` pixels; a maskable one keeps the drawing in the safe circle."""
    scale = 4  # drawn larger, then reduced: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=GREEN)
        inset, unit = big * 0.1, big * 0.8 / 64
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=12 * big / 64, fill=GREEN)
        inset, unit = 0.0, big / 64

    def at(points):
        return [(inset + x * unit, inset + y * unit) for x, y in points]

    pen.polygon(at(MOUNTAIN), fill=DARK)
    pen.polygon(at(ROAD), fill=ORANGE)
    for a, b in STRIPES:
        pen.line(at([a, b]), fill=WHITE, width=max(1, round(2 * unit)))
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    """Write icon.svg, the PNGs and favicon.ico."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(SVG)
    for size in (192, 512):
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    # iOS puts its own rounded corners on a square, opaque icon.
    touch = Image.new("RGB", (180, 180), GREEN)
    touch.paste(draw(180, maskable=True))
    touch.save(OUT / "apple-touch-icon.png", optimize=True)
    draw(48).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
