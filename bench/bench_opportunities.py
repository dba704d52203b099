"""The public pipeline on the synthetic region (100 000 plan items): SQL statements per request
for several filters and pages (must not grow with the data), and requests per second and
p50/p95 latency of ``/opportunities`` against the trivial ``/healthz`` of the same app, served
by the same gunicorn in the same run, under a threaded HTTP load generator."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import report, synth
from bench.bench_pages import QueryCounter
from srpp import create_app

ROOT = Path(__file__).resolve().parent.parent
CLIENT_THREADS = 8
DURATION_SECONDS = 12
GUNICORN_WORKERS = 3

QUERY_PAGES = [
    "/opportunities",
    "/opportunities?page=50",
    "/opportunities?municipality=SYN001&reserved=1",
    "/opportunities?municipality=SYN001&page=50",
    "/opportunities?quarter=2027-Q1&min_value=20000&max_value=90000&sort=value_desc",
    "/opportunities?q=service&area=LTC&page=3",
]
LOAD_PAGES = {
    "/healthz": "trivial endpoint (one SELECT 1)",
    "/opportunities?municipality=SYN001&reserved=1": "pipeline, filtered, page 1",
    "/opportunities?page=50": "pipeline, unfiltered, page 50",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query_counts(url: str) -> list[list[str]]:
    app = create_app({"DATABASE_URL": url, "ARGON2_PROFILE": "test", "PAGE_CACHE": False})
    client = app.test_client()
    rows = []
    with QueryCounter(app.extensions["srpp_engine"]) as counter:
        for path in QUERY_PAGES:
            client.get(path)  # warm-up (reference data caches)
            before = counter.count
            resp = client.get(path)
            if resp.status_code != 200:
                raise RuntimeError(f"GET {path} answered {resp.status_code}")
            rows.append([f"`{path}`", str(counter.count - before)])
    return rows


def member_latency(url: str, page_cache: bool, requests: int = 40) -> list[list[str]]:
    """A logged-in member (single process, Flask test client): the HTML is rendered for them;
    with the cache on, the count and the page's keys are shared per pipeline generation."""
    from srpp.core import cache

    cache.clear_local()
    app = create_app({"DATABASE_URL": url, "ARGON2_PROFILE": "test", "PAGE_CACHE": page_cache,
                      "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT_PER_ADDRESS": "1000 per minute"})
    client = app.test_client()
    client.post("/login", data={"email": "admin@bench.srpp.lt", "password": synth.PASSWORD})
    rows = []
    for path in QUERY_PAGES[1:3]:
        client.get(path)
        latencies = []
        for _ in range(requests):
            t0 = time.perf_counter()
            if client.get(path).status_code != 200:
                raise RuntimeError(f"GET {path} failed")
            latencies.append(time.perf_counter() - t0)
        q = statistics.quantiles(latencies, n=100, method="inclusive")
        rows.append([f"`{path}`", "on" if page_cache else "off", f"{q[49] * 1000:.1f}", f"{q[94] * 1000:.1f}"])
    return rows


def load(port: int, path: str, seconds: float = DURATION_SECONDS) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, latencies, time.perf_counter() - started


def serve(url: str, port: int, page_cache: bool) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "SRPP_ARGON2_PROFILE": "test",
           "SRPP_PAGE_CACHE": "1" if page_cache else "0"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS),
         "--log-level", "warning", "srpp:create_app()"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def load_table(url: str, page_cache: bool) -> list[str]:
    port = free_port()
    proc = serve(url, port, page_cache)
    rows = []
    rates: dict[str, float] = {}
    try:
        for path, label in LOAD_PAGES.items():
            load(port, path, 2)  # warm-up
            errors, latencies, seconds = load(port, path)
            rates[path] = len(latencies) / seconds
            q = statistics.quantiles(latencies, n=100, method="inclusive")
            rows.append([f"`{path}`", label, f"{rates[path]:.0f}", f"{q[49] * 1000:.1f}", f"{q[94] * 1000:.1f}",
                         str(errors)])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    trivial = rates["/healthz"]
    ratios = ", ".join(f"`{p}` {rates[p] / trivial:.0%}" for p in LOAD_PAGES if p != "/healthz")
    return [*report.table(["request", "what", "requests/s", "p50 ms", "p95 ms", "errors"], rows), "",
            f"Throughput relative to the trivial endpoint (target ≥ 30 %): {ratios}."]


def run() -> list[str]:
    url = synth.DEFAULT_URL
    lines = ["### Public pipeline `/opportunities` (100 000 plan items)", ""]
    lines += ["SQL statements per request (must stay constant whatever the filter, page or row count):", ""]
    lines += report.table(["request", "SQL statements"], query_counts(url))
    lines += ["", f"gunicorn, {GUNICORN_WORKERS} sync workers; {CLIENT_THREADS} client threads with keep-alive for "
              f"{DURATION_SECONDS} s per endpoint, on the same 2-core machine."]
    for page_cache in (True, False):
        lines += ["", f"**Page cache {'on' if page_cache else 'off'}** "
                  + ("(anonymous visitors: pages are cached per data generation, invalidated on publication)"
                     if page_cache else "(every request rendered: what logged-in users get)") + ":", ""]
        lines += load_table(url, page_cache)
    lines += ["", "**Logged-in member** (one process, Flask test client; the page is rendered for the member, the "
              "count and the page's row keys come from the cache per pipeline generation when it is on):", ""]
    lines += report.table(["request", "cache", "p50 ms", "p95 ms"],
                          member_latency(url, True) + member_latency(url, False))
    return lines
