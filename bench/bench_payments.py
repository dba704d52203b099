"""The council's payment dashboard (issue 7) on 1 000 000 invoices, in a PostgreSQL database of its
own, ``srpp_bench_payments``, filled by ``bench.synth`` (contracts, invoices with their stored figures
and payments over four years) and dropped again at the end.

For one complete half-year (about 125 000 invoices received in it), in one process, the steps taking
turns (2 rounds of warm-up, then 7 timed rounds; medians):

(a)  what the dashboard computes: ``figures.compute(start, end, by_municipality=True)`` and
     ``figures.compute(start, end)`` (the region total: its percentiles cannot be summed from the
     municipalities'), each one aggregate statement over the invoices and one over the work stoppages;
     also with the supplier-type filter;
(a') the dashboard page itself (``GET /payments/dashboard?period=…`` as a council viewer, Flask test
     client, an app of its own so that each request has its own session), when the page exists;
(b)  the baseline: ONE hand-written SQL statement computing the same aggregates over the same rows,
     grouped by municipality (the stoppages in a correlated subquery), on the connection (a) uses;
(c)  for comparison, one hand-written statement giving the municipalities and the region total
     (``GROUPING SETS``), i.e. all that (a) computes.

Target: (a) within 3× of (b). The results of (a), (b) and (c) are compared (they must be equal), the
plans are shown with EXPLAIN ANALYZE, and a sample of invoices is recomputed with ``services.recompute``
to check that the generated figures are the ones the application stores. When the schema lacks the
indexes of ``SUGGESTED_INDEXES``, the bench then creates them and measures (a), (a'), (b), (c) again.

    .venv/bin/python -m bench.run bench_payments    # this benchmark alone; rewrites its part of PERFORMANCE.md
    .venv/bin/python -m bench.bench_payments --keep  # prints the report, keeps the database (then --reuse)
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event, select, text

from bench import report, synth
from bench.bench_documents import drop_database
from srpp import create_app

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/srpp_bench_payments"
SEED = 1
#: the invoices (and contracts) at full size; the plan items and lots of the other benchmarks are not needed
SCALE = synth.Scale(plan_items=0, lots=0)
#: the last complete half-year before synth.PAYMENTS_AS_OF
PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
PERIOD_PARAM = "2026H1"
COUNCIL = f"council.syn-r01@{synth.EMAIL_DOMAIN}"
RUNS = 7
WARMUP = 2
TARGET_RATIO = 3.0
RECOMPUTE_SAMPLE = 500
#: indexes for the region-wide half-year statements (the schema's start with municipality_id)
SUGGESTED_INDEXES = {"ix_invoices_paid_on": "paid_on", "ix_invoices_due_date": "due_date"}

# figures.compute's aggregates written by hand: "paid" = fully paid in the period; "due" = fell due in it
# and not under an open dispute (its clock stands still)
PAID = "i.paid_on BETWEEN :start AND :end"
DUE = "i.due_date BETWEEN :start AND :end AND i.state <> 'disputed'"
AGGREGATES = f"""
    count(*) FILTER (WHERE {PAID}) AS paid_count,
    avg(i.days_to_pay) FILTER (WHERE {PAID}) AS avg_days,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY i.days_to_pay) FILTER (WHERE {PAID}) AS median_days,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY i.days_to_pay) FILTER (WHERE {PAID}) AS p90_days,
    count(*) FILTER (WHERE {PAID} AND i.days_to_pay <= 30) AS within_30,
    count(*) FILTER (WHERE {PAID} AND i.days_to_pay BETWEEN 31 AND 60) AS within_60,
    count(*) FILTER (WHERE {PAID} AND i.days_to_pay > 60) AS over_60,
    coalesce(sum(i.amount) FILTER (WHERE {DUE}), 0) AS due_sum,
    coalesce(sum(i.amount - CASE WHEN i.paid_on IS NULL THEN i.paid_amount ELSE 0 END)
             FILTER (WHERE {DUE} AND (i.paid_on IS NULL OR i.paid_on > :end)), 0) AS unpaid_due_sum,
    coalesce(sum(i.interest) FILTER (WHERE {DUE}), 0) AS interest,
    coalesce(sum(i.compensation) FILTER (WHERE {DUE}), 0) AS compensation,
    count(*) FILTER (WHERE {DUE} AND i.days_late > 0) AS late_count,
    (SELECT count(*) FROM work_stoppages w JOIN contracts c ON c.id = w.contract_id
      WHERE w.started_on BETWEEN :start AND :end
        AND (i.municipality_id IS NULL OR c.municipality_id = i.municipality_id)) AS stoppages"""
ROWS = f"FROM invoices i WHERE {PAID} OR ({DUE})"
BASELINE = f"SELECT i.municipality_id, {AGGREGATES}\n{ROWS}\nGROUP BY i.municipality_id"
ONE_STATEMENT = f"SELECT i.municipality_id, {AGGREGATES}\n{ROWS}\nGROUP BY GROUPING SETS ((i.municipality_id), ())"
FIELDS = ("paid_count", "avg_days", "median_days", "p90_days", "within_30", "within_60", "over_60", "due_sum",
          "unpaid_due_sum", "interest", "compensation", "late_count", "stoppages")

LABELS = {
    "dashboard": "(a) dashboard figures: `compute(…, by_municipality=True)` + `compute(…)` (region)",
    "by_municipality": "  of which `compute(…, by_municipality=True)`",
    "region": "  of which `compute(…)` (region total)",
    "seo": "(a) with the supplier-type filter `supplier_type=\"seo\"` (a join with suppliers)",
    "page": "(a') the page: `GET /payments/dashboard?period=" + PERIOD_PARAM + "` as a council viewer",
    "baseline": "(b) baseline: one hand-written statement, grouped by municipality",
    "baseline_nojit": "  (b) with JIT off (`SET jit = off` before, `RESET jit` after)",
    "one_statement": "(c) one hand-written statement, municipalities and region (`GROUPING SETS`)",
}
#: what the second pass (with the suggested indexes) measures again
SECOND_PASS = ("dashboard", "page", "baseline", "baseline_nojit", "one_statement")


def app_for() -> Flask:
    return create_app({"DATABASE_URL": URL, "ARGON2_PROFILE": "test", "SECRET_KEY": "bench-payments-secret",
                       "PAGE_CACHE": False, "MAIL_BACKEND": "memory", "WTF_CSRF_ENABLED": False,
                       "LOGIN_RATE_LIMIT_PER_ADDRESS": "1000 per minute"})


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# --- the data ---------------------------------------------------------------------------------------------

@dataclass
class Data:
    steps: list[synth.Step]
    seconds: float  # the whole database: create, migrate, generators, VACUUM ANALYZE
    rows: dict[str, int]
    sizes: dict[str, tuple[int, int, int]]  # table: (table, indexes, total) in bytes
    received_in_period: int
    rows_in_period: int  # the rows the aggregates read: paid or due in the period
    states: dict[str, int]
    server: str


def generate() -> tuple[list[synth.Step], float]:
    started = time.perf_counter()
    steps = synth.synthesise(URL, SCALE, SEED, on_step=synth.print_step)
    return steps, time.perf_counter() - started


def sizes(conn: Any, *tables: str) -> dict[str, tuple[int, int, int]]:
    return {t: tuple(conn.execute(text("SELECT pg_table_size(:t), pg_indexes_size(:t), pg_total_relation_size(:t)"),
                                  {"t": t}).one()) for t in tables}


def describe(steps: list[synth.Step], seconds: float) -> Data:
    engine = create_engine(URL)
    start, end = PERIOD
    try:
        with engine.connect() as conn:
            rows = {t: synth.count_rows(conn, t) for t in ("contracts", "work_stoppages", "invoices", "payments")}
            received = conn.scalar(text("SELECT count(*) FROM invoices WHERE received_on BETWEEN :s AND :e"),
                                   {"s": start, "e": end})
            in_period = conn.scalar(text(f"SELECT count(*) {ROWS}"), {"start": start, "end": end})
            states = dict(conn.execute(text("SELECT state, count(*) FROM invoices GROUP BY state ORDER BY 2 DESC")).all())
            data = Data(steps, seconds, rows, sizes(conn, "invoices", "payments"), received, in_period, states,
                        str(conn.scalar(text("SHOW server_version"))))
    finally:
        engine.dispose()
    return data


def check_recompute(sample: int = RECOMPUTE_SAMPLE) -> tuple[int, int, list[str]]:
    """Recompute ``sample`` random invoices with ``services.recompute`` as of the generator's date and
    compare with the stored figures (then roll back): (checked, differing, examples)."""
    from srpp.extensions import db
    from srpp.payments import services
    from srpp.payments.models import Invoice

    cols = ("due_date", "state", "paid_amount", "paid_on", "days_to_pay", "days_late", "interest", "compensation")
    top = db.session.scalar(select(Invoice.id).order_by(Invoice.id.desc()).limit(1)) or 0
    ids = random.Random(SEED).sample(range(1, top + 1), min(sample, top))
    bad: list[str] = []
    rates = services.rates()
    for inv in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids))):
        before = {c: getattr(inv, c) for c in cols}
        services.recompute(inv, synth.PAYMENTS_AS_OF, rates)
        diff = {c: (before[c], getattr(inv, c)) for c in cols if before[c] != getattr(inv, c)}
        if diff:
            bad.append(f"invoice {inv.id}: {diff}")
    db.session.rollback()
    return len(ids), len(bad), bad[:5]


def create_indexes() -> tuple[list[str], float, int]:
    """Create the suggested indexes the schema lacks, then ANALYZE: (created, seconds, their bytes)."""
    engine = create_engine(URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            have = set(conn.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'invoices'")))
            missing = [name for name in SUGGESTED_INDEXES if name not in have]
            started = time.perf_counter()
            for name in missing:
                conn.execute(text(f"CREATE INDEX {name} ON invoices ({SUGGESTED_INDEXES[name]})"))
            if missing:
                conn.execute(text("ANALYZE invoices"))
            seconds = time.perf_counter() - started
            size = sum(conn.scalar(text("SELECT pg_relation_size(:n)"), {"n": n}) or 0 for n in missing)
    finally:
        engine.dispose()
    return missing, seconds, size


# --- the measurements ------------------------------------------------------------------------------------

def timed(fns: dict[str, Callable[[], Any]], runs: int = RUNS, warmup: int = WARMUP) -> dict[str, list[float]]:
    """Seconds per call of each function, the functions taking turns (a burst of load from another
    process hits them all alike); the warm-up rounds are not kept."""
    times: dict[str, list[float]] = {key: [] for key in fns}
    for round_no in range(warmup + runs):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if round_no >= warmup:
                times[key].append(time.perf_counter() - t0)
    return times


class Statements:
    """The statements (and their parameters) the engine sends while the block runs."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.sent: list[tuple[str, Any]] = []

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.sent.append((statement, parameters))

    @property
    def over_invoices(self) -> list[tuple[str, Any]]:
        return [(st, p) for st, p in self.sent if "FROM invoices" in st]


def explain(statement: str, parameters: Any) -> list[str]:
    from srpp.extensions import db

    return [row[0] for row in db.session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}",
                                                                      parameters)]


def plan_summary(plan: list[str]) -> str:
    """The plan's nodes, outermost first, without costs: "Aggregate ← Seq Scan on invoices"."""
    nodes = []
    for n, line in enumerate(plan):
        stripped = line.strip()
        if stripped.startswith("->"):
            stripped = stripped[2:].strip()
        elif n:
            continue
        nodes.append(stripped.split("  (")[0])
    return " ← ".join(nodes)


def plan_ms(plan: list[str], prefix: str) -> float | None:
    """The milliseconds of the line starting with ``prefix`` ("Execution Time:", "Timing:" of JIT)."""
    for line in plan:
        stripped = line.strip()
        if stripped.startswith(prefix):
            tail = stripped.split("Total")[-1] if prefix == "Timing:" else stripped.split(":", 1)[1]
            return float(tail.split()[0])
    return None


def normalised(values: dict[str, Any]) -> dict[str, Any]:
    """Rounded as ``figures.compute`` rounds, so that the hand-written results compare equal."""
    out: dict[str, Any] = {}
    for key in FIELDS:
        v = values[key]
        if key in ("avg_days", "median_days", "p90_days"):
            out[key] = None if v is None else Decimal(str(v)).quantize(Decimal("0.1"))
        elif key in ("due_sum", "unpaid_due_sum", "interest", "compensation"):
            out[key] = Decimal(v).quantize(Decimal("0.01"))
        else:
            out[key] = int(v or 0)
    return out


@dataclass
class Pass:
    times: dict[str, list[float]]
    statements: dict[str, tuple[int, int]]  # per call: (all, over the invoices)
    plans: dict[str, list[str]]
    loads: dict[str, str]

    def median_ms(self, key: str) -> float:
        return statistics.median(self.times[key]) * 1000

    def ratio(self, key: str, to: str = "baseline") -> float:
        return self.median_ms(key) / self.median_ms(to)


@dataclass
class Result:
    data: Data
    page_status: str  # "measured" or why not
    equal: str
    recompute: tuple[int, int, list[str]]
    first: Pass
    indexes: tuple[list[str], float, int] = field(default_factory=lambda: ([], 0.0, 0))  # created, seconds, bytes
    second: Pass | None = None


def page_client(app: Flask) -> tuple[Any, str]:
    """A test client logged in as a council viewer, or (None, why not)."""
    if "payments.dashboard" not in app.view_functions:
        return None, "skipped: the page `payments.dashboard` does not exist yet"
    client = app.test_client()
    resp = client.post("/login", data={"email": COUNCIL, "password": synth.PASSWORD})
    if resp.status_code not in (302, 303):
        return None, f"skipped: logging in as {COUNCIL} answered {resp.status_code}"
    path = f"/payments/dashboard?period={PERIOD_PARAM}"
    resp = client.get(path)
    if resp.status_code != 200:
        return None, f"skipped: GET {path} answered {resp.status_code}"
    return client, "measured"


def compare(params: dict[str, Any]) -> str:
    """Check that (b) and (c) compute what figures.compute does; a sentence saying so."""
    from srpp.extensions import db
    from srpp.payments import figures

    start, end = params["start"], params["end"]
    by_muni, region = figures.compute(start, end, by_municipality=True), figures.compute(start, end)
    base = {r.municipality_id: normalised(r._asdict()) for r in db.session.execute(text(BASELINE), params)}
    both = {r.municipality_id: normalised(r._asdict()) for r in db.session.execute(text(ONE_STATEMENT), params)}
    ours = {f.municipality_id: normalised(vars(f)) for f in by_muni}
    problems = [f"municipality {m}: figures.compute {ours.get(m)} ≠ baseline {base.get(m)}"
                for m in sorted(set(ours) | set(base)) if ours.get(m) != base.get(m)]
    problems += [f"municipality {m}: (c) {both.get(m)} ≠ (b) {base[m]}" for m in base if both.get(m) != base[m]]
    if both.get(None) != normalised(vars(region)):
        problems.append(f"region: figures.compute {normalised(vars(region))} ≠ (c) {both.get(None)}")
    if problems:
        raise RuntimeError("the hand-written statements do not compute the dashboard's figures:\n"
                           + "\n".join(problems))
    return (f"equal for all {len(base)} municipalities and the region total ({region.paid_count:,} invoices paid "
            f"in the half-year, {region.late_count:,} due in it and late)")


def measure_pass(app: Flask, page_app: Flask, client: Any, keys: tuple[str, ...] = tuple(LABELS)) -> Pass:
    """Inside ``app``'s context (one session, one connection for (a), (b) and (c))."""
    from srpp.extensions import db
    from srpp.payments import figures

    start, end = PERIOD
    params = {"start": start, "end": end}
    engine = app.extensions["srpp_engine"]

    def baseline_without_jit() -> list[Any]:
        db.session.execute(text("SET jit = off"))
        try:
            return db.session.execute(text(BASELINE), params).all()
        finally:
            db.session.execute(text("RESET jit"))

    def page() -> None:
        if client.get(f"/payments/dashboard?period={PERIOD_PARAM}").status_code != 200:
            raise RuntimeError("the dashboard page failed")

    every: dict[str, Callable[[], Any]] = {
        "dashboard": lambda: (figures.compute(start, end, by_municipality=True), figures.compute(start, end)),
        "by_municipality": lambda: figures.compute(start, end, by_municipality=True),
        "region": lambda: figures.compute(start, end),
        "seo": lambda: (figures.compute(start, end, supplier_type="seo", by_municipality=True),
                        figures.compute(start, end, supplier_type="seo")),
        "page": page,
        "baseline": lambda: db.session.execute(text(BASELINE), params).all(),
        "baseline_nojit": baseline_without_jit,
        "one_statement": lambda: db.session.execute(text(ONE_STATEMENT), params).all(),
    }
    fns = {key: every[key] for key in keys if key != "page" or client is not None}
    statements: dict[str, tuple[int, int]] = {}
    sent: dict[str, Statements] = {}
    for key, fn in fns.items():
        with Statements(page_app.extensions["srpp_engine"] if key == "page" else engine) as s:
            fn()
        statements[key], sent[key] = (len(s.sent), len(s.over_invoices)), s
    loads = {"before": load_average()}
    print(f"load average (1/5/15 min) before the timed runs: {loads['before']}", flush=True)
    times = timed(fns)
    loads["after"] = load_average()
    by_muni, region = sent["dashboard"].over_invoices
    plans = {"by_municipality": explain(*by_muni), "region": explain(*region),
             "baseline": [row[0] for row in db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {BASELINE}"),
                                                               params)]}
    return Pass(times, statements, plans, loads)


def print_pass(p: Pass) -> None:
    for key, label in LABELS.items():
        if key in p.times:
            q = p.times[key]
            print(f"{label.replace('`', ''):<96} median {p.median_ms(key):7.1f} ms  min {min(q) * 1000:7.1f}  "
                  f"max {max(q) * 1000:7.1f}  × (b) {p.ratio(key):5.2f}  statements {p.statements[key]}", flush=True)
    for key, plan in p.plans.items():
        print(f"EXPLAIN ANALYZE {key}:", *(f"  {line}" for line in plan), sep="\n", flush=True)


def measure(data: Data) -> Result:
    from srpp.extensions import db

    app, page_app = app_for(), app_for()  # the page in an app of its own: each request its own session
    try:
        client, page_status = page_client(page_app)
        if client is None:
            print(f"(a') {page_status}", flush=True)
        with app.app_context():
            equal = compare({"start": PERIOD[0], "end": PERIOD[1]})
            print(f"results: {equal}", flush=True)
            first = measure_pass(app, page_app, client)
            print_pass(first)
            recompute = check_recompute()
            print(f"services.recompute on {recompute[0]} sampled invoices: {recompute[1]} differ", *recompute[2],
                  sep="\n", flush=True)
            db.session.rollback()
        result = Result(data, page_status, equal, recompute, first)
        result.indexes = create_indexes()
        if result.indexes[0]:
            print(f"created {', '.join(result.indexes[0])} in {result.indexes[1]:.1f} s; measuring again", flush=True)
            with app.app_context():
                result.second = measure_pass(app, page_app, client, SECOND_PASS)
            print_pass(result.second)
        return result
    finally:
        app.extensions["srpp_engine"].dispose()
        page_app.extensions["srpp_engine"].dispose()


# --- the report ------------------------------------------------------------------------------------------

def run(reuse: bool = False, keep: bool = False) -> list[str]:
    try:
        steps, seconds = ([], math.nan) if reuse else generate()
        data = describe(steps, seconds)
        print(f"{data.rows_in_period:,} invoices paid or due in {PERIOD[0]} – {PERIOD[1]} "
              f"({data.received_in_period:,} received in it)", flush=True)
        result = measure(data)
    finally:
        if not keep:
            drop_database(URL)
    return report_lines(result)


def trend_length() -> int:
    from srpp.payments import views

    return int(getattr(views, "TREND_LENGTH", 0))


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def timing_table(p: Pass) -> list[str]:
    return report.table(["step", "median ms", "min ms", "max ms", "× (b)", "SQL statements (over the invoices)"], [
        (label, f"{p.median_ms(key):.1f}", f"{min(p.times[key]) * 1000:.1f}", f"{max(p.times[key]) * 1000:.1f}",
         f"{p.ratio(key):.2f}", f"{p.statements[key][0]} ({p.statements[key][1]})")
        for key, label in LABELS.items() if key in p.times
    ], right=[1, 2, 3, 4, 5])


def plan_table(p: Pass) -> list[str]:
    def jit(plan: list[str]) -> str:
        ms = plan_ms(plan, "Timing:")
        return "—" if ms is None else f"{ms:.0f}"

    return report.table(["statement", "plan (nodes, outermost first)", "execution ms", "of which JIT ms"], [
        (label, plan_summary(p.plans[key]).replace("|", "\\|"), f"{plan_ms(p.plans[key], 'Execution Time:'):.1f}",
         jit(p.plans[key]))
        for key, label in (("by_municipality", "`compute(…, by_municipality=True)`"),
                           ("region", "`compute(…)`"), ("baseline", "(b)"))
    ], right=[2, 3])


def report_lines(r: Result) -> list[str]:
    d, p, q = r.data, r.first, r.second
    cores = len(os.sched_getaffinity(0))
    loads = [*p.loads.values(), *(q.loads.values() if q else ())]
    busy = max(float(x.split(" / ")[0]) for x in loads) > cores
    start, end = PERIOD
    step = {s.name: s for s in d.steps}
    gen = [step[n] for n in ("contracts", "invoices_and_payments") if n in step]
    checked, bad, _ = r.recompute
    met = p.ratio("dashboard") <= TARGET_RATIO
    page = ("" if "page" in p.times else
            f" (a') the dashboard page: {r.page_status.replace('skipped: ', 'not measured, ')}.")
    page_calls = "" if "page" not in p.times else f" The page runs {p.statements['page'][1]} statements over the invoices"
    if page_calls and p.statements["page"][1] == 2 + trend_length():
        page_calls += (": the half-year by municipality and for the region, then the region for each of the "
                       f"{trend_length()} half-years of the trend chart (the last of them the same half-year again)")
    if page_calls:
        page_calls += "."
    lines = [
        "### Payments dashboard (`bench/bench_payments.py`)",
        "",
        f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {cores} CPU cores._ "
        f"A fresh PostgreSQL {d.server.split()[0]} database `srpp_bench_payments`, created and dropped by the run."
        + (" Other processes were running on the machine (a load average above the number of cores, given below): "
           "the times are pessimistic and vary between runs; the ratios within a run are the figures to compare."
           if busy else ""),
        "",
        f"**Data**: `bench.synth` at the default scale without plan items and lots (seed {SEED}): "
        f"{d.rows['contracts']:,} contracts, {d.rows['invoices']:,} invoices received {synth.PAYMENTS_FROM} – "
        f"{synth.PAYMENTS_AS_OF} (inserted in that order, as in production) with their stored figures as of the last day, "
        f"{d.rows['payments']:,} payments and {d.rows['work_stoppages']:,} work stoppages, loaded with `COPY`"
        + (f" in {sum(s.seconds for s in gen):.1f} s ({', '.join(f'`{s.name}` {s.seconds:.1f} s' for s in gen)}; "
           f"the whole database with migrations and `VACUUM ANALYZE` {d.seconds:.1f} s)" if gen else "")
        + ". Invoices by state: " + ", ".join(f"{k} {v:,}" for k, v in d.states.items()) + ". "
        f"Size (table / indexes / total): `invoices` {mib(d.sizes['invoices'][0])} / {mib(d.sizes['invoices'][1])} / "
        f"{mib(d.sizes['invoices'][2])}, `payments` {mib(d.sizes['payments'][0])} / {mib(d.sizes['payments'][1])} / "
        f"{mib(d.sizes['payments'][2])}. `services.recompute` of {checked} sampled invoices gives the stored "
        f"figures {'exactly' if not bad else f'except for {bad} of them'}.",
        "",
        f"**Dashboard for the half-year {start} – {end}**: {d.received_in_period:,} invoices received in it; the "
        f"aggregates read the {d.rows_in_period:,} paid or due in it. One process; (a), (b) and (c) on one "
        f"connection. The steps take turns, {WARMUP} rounds of warm-up then {RUNS} timed rounds. The results of "
        f"(a), (b) and (c) are {r.equal}.{page}{page_calls} Load average (1/5/15 min) before: {p.loads['before']}; "
        f"after: {p.loads['after']}.",
        "",
        *timing_table(p),
        "",
        f"Target (a) ≤ {TARGET_RATIO:g}× (b): **{'met' if met else 'missed'}** ((a)/(b) = **{p.ratio('dashboard'):.2f}×**"
        f"; against (b) with JIT off {p.ratio('dashboard', 'baseline_nojit'):.2f}×; (a)/(c) = "
        f"{p.ratio('dashboard', 'one_statement'):.2f}×). (a) reads the rows twice, once per statement; (c) reads them "
        "once for both groupings."
        + (" PostgreSQL compiles (b) with JIT (its estimated cost passes `jit_above_cost`) and not the statements "
           "of (a), hence the row without it." if plan_ms(p.plans["baseline"], "Timing:") is not None else ""),
        "",
        *plan_table(p),
    ]
    if q is not None:
        created, seconds, size = r.indexes
        lines += [
            "",
            f"**With the suggested indexes** {' and '.join(f'`{n}` on `invoices ({SUGGESTED_INDEXES[n]})`' for n in created)} "
            f"(created by the bench, as a migration would, in {seconds:.1f} s with `ANALYZE`; {mib(size)} together), "
            f"measured again the same way. Load average before: {q.loads['before']}; after: {q.loads['after']}.",
            "",
            *timing_table(q),
            "",
            f"(a)/(b) = **{q.ratio('dashboard'):.2f}×** (against (b) with JIT off "
            f"{q.ratio('dashboard', 'baseline_nojit'):.2f}×); (a) {p.median_ms('dashboard') / q.median_ms('dashboard'):.1f}× "
            f"and (b) {p.median_ms('baseline') / q.median_ms('baseline'):.1f}× faster than without the indexes"
            + (f", the page {p.median_ms('page') / q.median_ms('page'):.1f}× faster" if "page" in q.times else "")
            + ".",
            "",
            *plan_table(q),
        ]
    return lines


def main() -> None:
    """``make bench`` (``python -m bench.run``; ``python -m bench.run bench_payments`` for this one
    alone) writes the report into docs/PERFORMANCE.md; this prints it, and can keep or reuse the
    database to look into the plans."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_payments",
                                     description="The council's payment dashboard on 1 000 000 invoices.")
    parser.add_argument("--reuse", action="store_true", help="measure the existing database (no generation)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    print("\n".join(run(reuse=args.reuse, keep=args.keep)))


if __name__ == "__main__":
    main()
