"""City boundary and place tables."""

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base


class CityBoundary(Base):
    """The administrative boundary of the city."""

    __tablename__ = "city_boundaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))


class Place(Base):
    """A named landmark: a station, an interchange, a shrine, a roadside station."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    inside_city: Mapped[bool]
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
