"""Who publishes the open data, whom to ask, and under which licence (README, Configuration)."""

import uuid
from dataclasses import dataclass

from flask import current_app

CITY = "阿蘇市"
# 全国地方公共団体コード of 阿蘇市 (熊本県), with its check digit.
CITY_CODE = "432148"
# A name-based UUID (RFC 4122) for the city as a source of road events: the same on every
# installation, as WZDx recommends for data_source_id.
DATA_SOURCE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:jp:lg:{CITY_CODE}:traffic-restrictions"))
# The only licence a WZDx 4.2 feed may name in feed_info.license.
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
# The city's bounding box (lon/lat, WGS84): geodata/README.md.
CITY_BBOX = (130.9427, 32.8745, 131.2538, 33.0457)


@dataclass(frozen=True)
class Publisher:
    """The publisher, contact and licence of the city's open data, from the configuration."""

    name: str
    contact_name: str
    contact_email: str
    license_url: str
    license_name: str


def publisher() -> Publisher:
    """Return the configured publisher (DATA_PUBLISHER, DATA_CONTACT_*, DATA_LICENSE_*)."""
    config = current_app.config
    return Publisher(
        name=config.get("DATA_PUBLISHER") or CITY,
        contact_name=config.get("DATA_CONTACT_NAME") or "",
        contact_email=config.get("DATA_CONTACT_EMAIL") or "",
        license_url=config.get("DATA_LICENSE_URL") or CC0,
        license_name=config.get("DATA_LICENSE_NAME") or "",
    )
