"""The meeting figures at 100,000 projects: indicators, filtered counts, coverage, as_of."""

from datetime import date

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.run import timed_ms
from tracker.indicators.queries import indicator_values
from tracker.meeting.queries import policy1_coverage
from tracker.projects.queries import ProjectFilter, status_counts

PROJECTS = 100_000
AS_OF = date(2023, 3, 31)


def run(ctx):
    """Yield the dashboard and count figures, now and as of a past date."""
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    engine = create_engine(url)
    with Session(engine) as session:
        filtered = ProjectFilter(
            kinds=["road", "bridge"], plan_items=["p1.m2"], fiscal_years=[2022]
        )

        def figures(**kw):
            return lambda: indicator_values(session, include_private=True, **kw)

        def counts(filt):
            return lambda: status_counts(session, filt)

        yield f"indicators_ms_{n}", round(timed_ms(figures(), repeat=7), 1)
        yield f"indicators_as_of_ms_{n}", round(timed_ms(figures(as_of=AS_OF), repeat=7), 1)
        yield f"plan_counts_ms_{n}", round(timed_ms(counts(ProjectFilter()), repeat=7), 1)
        yield f"plan_counts_filtered_ms_{n}", round(timed_ms(counts(filtered), repeat=7), 1)
        as_of = ProjectFilter(as_of=AS_OF)
        yield f"plan_counts_as_of_ms_{n}", round(timed_ms(counts(as_of), repeat=7), 1)
        yield (
            f"coverage_as_of_ms_{n}",
            round(
                timed_ms(
                    lambda: policy1_coverage(session, include_private=True, as_of=AS_OF), repeat=5
                ),
                1,
            ),
        )
    engine.dispose()
    client = ctx.app(n).test_client()
    assert client.get("/api/indicators").status_code == 200
    yield (
        f"api_indicators_ms_{n}",
        round(timed_ms(lambda: client.get("/api/indicators"), repeat=5), 1),
    )
    yield (
        f"plan_page_ms_{n}",
        round(timed_ms(lambda: client.get("/plan?kind=bridge&status=completed"), repeat=5), 1),
    )
