"""Streamed answers (the exports, the pages of /api/projects) read the database while they are
sent, after the view has returned: their connection must go back to the pool when they end."""

import pytest

from tracker import create_app

STREAMED = (
    "/plan/projects.geojson",
    "/plan/projects.csv",
    "/api/projects?limit=10000",
    "/api/projects?limit=1",
)


@pytest.mark.parametrize("answer_cache_mb", ["0", "128"])
def test_a_streamed_answer_gives_its_connection_back(engine, database_url, answer_cache_mb):
    app = create_app({"DATABASE_URL": database_url, "ANSWER_CACHE_MB": answer_cache_mb})
    pool = app.extensions["db_engine"].pool
    client = app.test_client()
    try:
        for path in STREAMED * 2:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.get_data(), path
            response.close()
            assert pool.checkedout() == 0, path
    finally:
        app.extensions["db_engine"].dispose()
