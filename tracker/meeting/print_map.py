"""The printed sheet's map picture: the city, its works by status, numbers that match the
sheet's list, the main place names, a scale bar and a north arrow, laid out in SVG units.

The picture is drawn in degrees with longitudes shrunk by cos(33°), so that a unit is about
the same distance (111 km) across and up at Aso's latitude and the city keeps its shape.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row

from tracker.city.districts import StartPlace

KX = math.cos(math.radians(33))
KM_PER_UNIT = 111.32  # a degree of latitude, and of longitude once shrunk by KX
MARGIN = 0.006
SCALE_KM = 5
# Sizes relative to the picture's font (the template draws them so): place names are a
# little larger than the numbers, whose circles have this radius.
PLACE_FONT = 1.1
NUMBER_RADIUS = 0.75
# The district centres (geodata/aso_districts.csv) named on the printed map: the main ones,
# spread over the caldera, so that the names do not crowd the works.
MAIN_PLACES = (
    "miyaji",
    "sakanashi",
    "uchinomaki",
    "kurokawa",
    "yamada",
    "karuo",
    "akamizu",
    "namino",
)


@dataclass(frozen=True)
class Label:
    """Text (a number or a place name) at a point of the picture; a number moved off its
    place to stay readable keeps that place in (home_x, home_y) for a leader line."""

    x: float
    y: float
    text: str
    home_x: float | None = None
    home_y: float | None = None

    @property
    def moved(self) -> bool:
        """Tell whether the label stands away from its place."""
        return self.home_x is not None and (self.home_x, self.home_y) != (self.x, self.y)


@dataclass(frozen=True)
class PrintMap:
    """Everything the sheet's SVG needs, in picture units."""

    view_box: str
    kx: float
    boundary: str
    # The works' paths are in cells of the grid (map_svg_parts): this puts them in place.
    cells_transform: str
    paths: dict[str, str]
    numbers: list[Label]
    places: list[Label]
    font: float
    place_font: float
    number_radius: float
    scale_x: float
    scale_y: float
    scale_length: float
    scale_text: str
    north_x: float
    north_y: float


def _point(lon: float, lat: float) -> tuple[float, float]:
    return round(lon * KX, 5), round(-lat, 5)


def layout(parts: dict, rows: Sequence[Row[Any]], places: list[StartPlace], lang: str) -> PrintMap:
    """Lay out the picture from the boundary and paths (map_svg_parts), the listed rows
    (numbered 1, 2, … in their order) and the place names in `lang`."""
    left = parts["xmin"] * KX - MARGIN
    top = -parts["ymax"] - MARGIN
    width = parts["width"] * KX + 2 * MARGIN
    # Room under the city for the scale bar.
    height = parts["height"] + 2 * MARGIN + 0.02
    font = width / 55
    numbers = spread(
        [
            Label(*_point(r.label_lon, r.label_lat), str(n))
            for n, r in enumerate(rows, start=1)
            if r.label_lon is not None
        ],
        gap=font * 1.7,
    )
    named = place_names(
        [
            Label(*_point(p.lon, p.lat), p.label(lang))
            for p in places
            if p.key.removeprefix("d-") in MAIN_PLACES
        ],
        numbers,
        font=font * PLACE_FONT,
        number_radius=font * NUMBER_RADIUS,
    )
    return PrintMap(
        view_box=f"{left:.5f} {top:.5f} {width:.5f} {height:.5f}",
        kx=KX,
        boundary=parts["boundary"],
        cells_transform=(
            f"translate({parts['xmin']:.6f} {-parts['ymax']:.6f}) scale({parts['cell']:.8f})"
        ),
        paths=parts["paths"],
        numbers=numbers,
        places=named,
        font=round(font, 5),
        place_font=round(font * PLACE_FONT, 5),
        number_radius=round(font * NUMBER_RADIUS, 5),
        scale_x=round(left + 2 * MARGIN, 5),
        scale_y=round(top + height - 0.012, 5),
        scale_length=round(SCALE_KM / KM_PER_UNIT, 5),
        scale_text=f"{SCALE_KM} km",
        north_x=round(left + width - 3 * font, 5),
        north_y=round(top + 3 * font, 5),
    )


def spread(labels: list[Label], gap: float) -> list[Label]:
    """Move labels that would overlap a label placed before them to the first free spot on a
    spiral around their place, so that every number can be read; the place is kept."""
    placed: list[Label] = []
    for label in labels:
        x, y = label.x, label.y
        step = 0
        while step < 300 and any(math.dist((x, y), (o.x, o.y)) < gap for o in placed):
            angle = step * 2.4  # the golden angle in radians: an even spiral
            distance = gap * (0.6 + 0.25 * math.sqrt(step))
            x, y = label.x + math.cos(angle) * distance, label.y + math.sin(angle) * distance
            step += 1
        placed.append(Label(round(x, 5), round(y, 5), label.text, label.x, label.y))
    return placed


Box = tuple[float, float, float, float]  # left, top, right, bottom


def text_width(text: str, font: float) -> float:
    """Return a generous width of a line of text: a full em for a kanji or kana, 0.7 em for
    a Latin letter or digit (sans-serif averages about 0.55; tiny text is hinted wider)."""
    return sum(font if ord(ch) > 0x2E80 else font * 0.7 for ch in text)


def _text_box(x: float, y: float, text: str, font: float) -> Box:
    # Centred on x, y the baseline: ascenders reach about 0.9 em up, descenders 0.25 em down.
    half = text_width(text, font) / 2 + font * 0.15
    return (x - half, y - font * 0.95, x + half, y + font * 0.3)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_names(
    names: list[Label], numbers: list[Label], *, font: float, number_radius: float
) -> list[Label]:
    """Place each name where it covers no number and no name placed before it: on its place,
    else beside it (above, below, right, left, then diagonally, then farther out). A name
    with no free spot near its place is left out: the numbers are what the sheet is for."""
    pad = font * 0.15
    taken: list[Box] = [
        (n.x - number_radius - pad, n.y - number_radius - pad, n.x + number_radius + pad,
         n.y + number_radius + pad)
        for n in numbers
    ]  # fmt: skip
    placed: list[Label] = []
    for name in names:
        width = text_width(name.text, font)
        for x, y in _candidates(name.x, name.y, width, font):
            box = _text_box(x, y, name.text, font)
            if not any(_overlap(box, other) for other in taken):
                taken.append(box)
                placed.append(Label(round(x, 5), round(y, 5), name.text, name.x, name.y))
                break
    return placed


def _candidates(x: float, y: float, width: float, font: float) -> list[tuple[float, float]]:
    spots = [(x, y)]
    for ring in (1, 2, 3, 4):
        dy, dx = font * 1.3 * ring, (width / 2 + font) * ring
        spots += [
            (x, y - dy), (x, y + dy), (x + dx, y), (x - dx, y),
            (x + dx, y - dy), (x - dx, y - dy), (x + dx, y + dy), (x - dx, y + dy),
        ]  # fmt: skip
    return spots
