"""Requests per second and latency of ``GET /municipalities`` against a trivial endpoint (a static
file), with Flask's test client in a single process, on the synthetic region in ``srpp_bench``;
and the SQL queries each request runs."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from bench import report, synth
from srpp import create_app

WARMUP = 30
REQUESTS = 300
PAGES = {
    "/municipalities": "municipality list, anonymous",
    "/static/css/app.css": "static file (trivial endpoint)",
}


class QueryCounter:
    """Counts the statements the engine sends to the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.count += 1


@dataclass
class Measurement:
    path: str
    seconds: float  # wall time of the measured requests
    latencies: list[float]
    queries: list[int]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    @property
    def queries_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


def get(client: FlaskClient, path: str) -> None:
    response = client.get(path, buffered=True)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")


def measure(client: FlaskClient, counter: QueryCounter, path: str) -> Measurement:
    for _ in range(WARMUP):
        get(client, path)
    latencies: list[float] = []
    queries: list[int] = []
    started = time.perf_counter()
    for _ in range(REQUESTS):
        before, t0 = counter.count, time.perf_counter()
        get(client, path)
        latencies.append(time.perf_counter() - t0)
        queries.append(counter.count - before)
    return Measurement(path, time.perf_counter() - started, latencies, queries)


def count_municipalities(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            count = synth.count_rows(conn, "municipalities")
    except OperationalError as exc:
        raise RuntimeError(f"{engine.url!r} is not reachable; bench_synth creates it") from exc
    if not count:
        raise RuntimeError(f"{engine.url!r} holds no municipalities; bench_synth fills it")
    return count


def run() -> list[str]:
    url = synth.DEFAULT_URL
    app = create_app({"DATABASE_URL": url, "ARGON2_PROFILE": "test"})
    engine: Engine = app.extensions["srpp_engine"]
    try:
        municipalities = count_municipalities(engine)
        client = app.test_client()
        with QueryCounter(engine) as counter:
            results = [measure(client, counter, path) for path in PAGES]
    finally:
        engine.dispose()
    for r in results:
        print(f"{r.path:<24} {r.per_second:8.1f} req/s  p50 {r.percentile_ms(50):6.2f} ms  "
              f"p95 {r.percentile_ms(95):6.2f} ms  {r.queries_label} SQL/request", flush=True)
    return [
        "### Pages (`bench/bench_pages.py`)",
        "",
        f"Flask test client, one process, logged out; {REQUESTS} requests per endpoint after {WARMUP} "
        f"of warm-up, against `srpp_bench` ({municipalities} municipalities).",
        "",
        *report.table(
            ["request", "what", "requests/s", "p50 ms", "p95 ms", "SQL queries/request"],
            [(f"`GET {r.path}`", PAGES[r.path], f"{r.per_second:.0f}", f"{r.percentile_ms(50):.2f}",
              f"{r.percentile_ms(95):.2f}", r.queries_label) for r in results],
            right=[2, 3, 4, 5],
        ),
    ]
