"""The crowd of bench/crowd_bench.py: residents on phones after a disaster (locust users).

Run by locust in its own virtualenv (bench.servers.ensure_locust), never imported by the
app or by bench.run. Each user opens /near at a random place in the city, the map tiles
around it, the restrictions, the feed of that place and now and then a work's page, with a
few seconds between taps. The places, tiles and works come from the JSON file named by
CROWD_PLAN, written by the bench for this database.
"""

import json
import os
import random

from locust import HttpUser, between, task

with open(os.environ["CROWD_PLAN"], encoding="utf-8") as plan_file:
    PLAN = json.load(plan_file)

# What a phone sends: it takes gzip and reads Japanese.
HEADERS = {"Accept-Encoding": "gzip", "Accept-Language": "ja"}


class Resident(HttpUser):
    """One phone: a place of its own, visited again and again."""

    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.lat, self.lon, self.radius = random.choice(PLAN["places"])
        self.tiles = random.choice(PLAN["tiles"])

    def _get(self, path: str, name: str) -> None:
        self.client.get(path, headers=HEADERS, name=name)

    @task(4)
    def near_page(self) -> None:
        self._get(f"/near?lat={self.lat}&lon={self.lon}&radius={self.radius}", "/near")

    @task(6)
    def tiles_around(self) -> None:
        for path in self.tiles:
            self._get(path, "tiles")

    @task(2)
    def restrictions(self) -> None:
        self._get("/api/restrictions", "/api/restrictions")

    @task(2)
    def feed(self) -> None:
        query = f"lat={self.lat}&lon={self.lon}&radius={self.radius}"
        self._get(f"/near/feed.atom?{query}", "/near/feed.atom")

    @task(1)
    def project_page(self) -> None:
        self._get(f"/projects/{random.choice(PLAN['projects'])}", "/projects/<id>")
