"""The city's districts (旧町村・大字) by their centres, from geodata/aso_districts.csv.

The centres are approximate (see geodata/README.md): good for naming an area and starting a
search, not for addresses. They name areas on the /near place list, the city map's list of
works and the printed map.
"""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app

DISTRICTS_FILE = "aso_districts.csv"


@dataclass(frozen=True)
class StartPlace:
    """A named point to search around; `key` is what the page's place list sends."""

    key: str
    name: str
    name_en: str
    group: str  # "district" or "landmark"
    lat: float
    lon: float

    def label(self, locale: str) -> str:
        """Return the name to show in this language."""
        return self.name_en if locale == "en" else self.name


def districts() -> list[StartPlace]:
    """Return the district centres from the geodata file, in the file's order."""
    return list(_read_districts(str(Path(current_app.config["GEODATA_DIR"]) / DISTRICTS_FILE)))


@lru_cache(maxsize=4)
def _read_districts(path: str) -> tuple[StartPlace, ...]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return tuple(
            StartPlace(
                key=f"d-{row['key']}",
                name=row["name"],
                name_en=row["name_en"],
                group="district",
                lat=float(row["lat"]),
                lon=float(row["lon"]),
            )
            for row in rows
        )
