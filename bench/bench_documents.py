"""Tender documents (issue 6), on a fresh PostgreSQL database ``srpp_bench_docs`` with the demo
region, dropped again at the end:

1. **Render time** of the tender specification of a tender with 20 lots (at least 40 clause
   instances): (a) what the worker runs (``services.build_bytes``: load the subject, assemble with the
   recorded editions, render the ``.docx`` through the master), (b) ``render_docx`` alone on a ready
   assembly, (c) a baseline writing the same headings, paragraphs and tables of the same assembly with
   plain python-docx (no master, no docxtpl). Target: (a) within 1.5× of (c). A cProfile run of (a)
   shows where the time goes (the main parts in the report, the top functions printed).
2. **Throughput** of 200 queued documents through Redis and real ``celery worker`` processes: one
   worker process, then two (two ``celery worker --concurrency=1`` processes), from the first request
   to the last job done (polling ``job_runs``).

Redis: ``SRPP_BENCH_REDIS_URL``, by default database 14 (the test suite's workers use 15, so a bench
running next to the tests would trade tasks with them); it is flushed before each pass."""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import redis
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from flask import Flask
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import report, synth
from bench.bench_pages import QueryCounter
from srpp import create_app, migrate

ROOT = Path(__file__).resolve().parent.parent
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/srpp_bench_docs"
REDIS_URL = os.environ.get("SRPP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET = "bench-documents-secret"
OFFICER = "officer.pas@demo.srpp.lt"
SOCIAL_SERVICES_UNIT = "Socialinių paslaugų skyrius / Social services department"

RUNS = 15  # timed runs per render measurement, after WARMUP
WARMUP = 3
LOTS = 20
MIN_CLAUSES = 40
#: lots reserved in the tender as first built (a realistic share), before adding more to reach MIN_CLAUSES
NATURAL_RESERVED = 6
TARGET_RATIO = 1.5
QUEUED = 200
PROFILE_TOP = 15

#: the service categories of the big tender's lots, one per lot, across the catalogue so that the
#: category-dependent clauses (continuity, DPIA, bundles …) are selected as they would be
CATEGORIES = ["HOME_CARE", "DEM_DAY", "SOC_WORKSHOP", "WISE_PLACE", "DRT", "SENIOR_DC", "RESPITE", "NAVIGATOR",
              "ETICKET", "BUNDLE_CARE_MOB", "GROUP_HOME", "SUPP_HOUS", "YOUTH_OPEN", "YOUTH_INCL", "PALL",
              "SPEC_TRANSPORT", "TENANT_SUP", "INDEP_LIVING", "HEALTH_EDU", "INCL_EDU"]
#: the bases reserved lots take, in turn (Art. 77 only where every CPV code of the lot allows it)
BASES = ["res-ws", "lt-23-1-5", "res-pub-ser", "lt-23-1-3", "lt-23-1-4"]


def app_for(redis_url: str | None) -> Flask:
    return create_app({"DATABASE_URL": URL, "REDIS_URL": redis_url, "CELERY_EAGER": redis_url is None,
                       "ARGON2_PROFILE": "test", "SECRET_KEY": SECRET, "MAIL_BACKEND": "memory",
                       "PAGE_CACHE": False})


# --- the database ---------------------------------------------------------------------------------

def drop_database(url: str) -> None:
    u = make_url(url)
    admin = make_conninfo(host=u.host, port=u.port, user=u.username, password=u.password, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(u.database)))


def prepare_database() -> float:
    """Create, migrate and load the demo region; the seconds it took."""
    started = time.perf_counter()
    synth.create_database(make_url(URL))
    migrate.upgrade(URL)
    app = app_for(None)
    with app.app_context():
        from srpp.demo import loader

        loader.load()
    app.extensions["srpp_engine"].dispose()
    return time.perf_counter() - started


# --- the tender with 20 lots ------------------------------------------------------------------------

@dataclass
class BigTender:
    tender_id: int
    natural_reserved: int
    natural_clauses: int
    reserved: int
    clauses: int
    bases: dict[str, int]


def _clause_count(tender_id: int, lang: str = "lt") -> int:
    from srpp.documents import assembly, subjects

    return assembly.assemble("tender_specification", subjects.load("tender", tender_id), lang,
                             {"social_services_unit": SOCIAL_SERVICES_UNIT}).clause_count()


def build_tender() -> BigTender:
    """A tender of the Pasvalys officer with 20 lots (categories, CPV codes, values, durations,
    award criteria), ``NATURAL_RESERVED`` of them reserved; more lots are reserved, one at a time,
    until the specification holds ``MIN_CLAUSES`` clause instances (reservation clauses repeat per
    reserved lot)."""
    from srpp.auth.models import User
    from srpp.core.audit import bind_actor
    from srpp.extensions import db
    from srpp.orgs.models import Municipality, ServiceCategory
    from srpp.rules import services as rules
    from srpp.rules.models import Procedure, ReservationBasis
    from srpp.tenders import demo as tender_demo
    from srpp.tenders import services
    from srpp.tenders.models import Tender, TenderState

    officer = db.session.scalar(select(User).where(User.email == OFFICER))
    municipality = db.session.scalar(select(Municipality).where(Municipality.code == "PAS"))
    cats = {c.key: c for c in db.session.scalars(select(ServiceCategory))}
    bind_actor(db.session(), officer)
    tender = Tender(municipality_id=municipality.id, title="Socialinės paslaugos 2027–2029 (20 pirkimo dalių)",
                    description="Didelis pirkimas spartos matavimui: dvidešimt pirkimo dalių, dalis jų rezervuotos.",
                    procedure=Procedure.LIGHT_REGIME, state=TenderState.DRAFT, created_by_id=officer.id,
                    is_srpp=True, max_lots_per_tenderer=5, allocation_rule="Mažiausios vertės dalys skiriamos pirmiau.",
                    submission_deadline=dt.date(2027, 3, 1))
    db.session.add(tender)
    db.session.flush()

    def can_reserve(cat: Any, basis: str, months: int) -> bool:
        codes = [cat.main_cpv, *[c.code for c in cat.cpv_codes if c.code != cat.main_cpv]]
        return not rules.reservation_problems(ReservationBasis(basis), codes, months)

    lots = []
    for n, key in enumerate(CATEGORIES[:LOTS], start=1):
        cat = cats[key]
        months = [12, 24, 36, 18, 48][n % 5]
        lot = services.add_lot(officer, tender, services.LotInput(
            title=f"{cat.name_lt} ({n})", category_id=cat.id, main_cpv=cat.main_cpv,
            additional_cpv=[c.code for c in cat.cpv_codes if c.code != cat.main_cpv],
            estimated_value=Decimal(15_000 + 7_500 * n), duration_months=months, place_municipality_id=municipality.id,
            settlement="Pasvalys" if n % 2 else "Joniškėlis", is_rural=n % 3 == 0, description=f"Pirkimo dalis {n}."))
        services.set_criteria(officer, lot, tender_demo.CRITERIA)
        lots.append(lot)

    def reserve(count: int) -> None:
        """Reserve the next ``count`` unreserved lots (every third lot first), cycling through the bases."""
        order = [lot for lot in lots[::3] + [x for x in lots if x not in lots[::3]] if not lot.is_reserved]
        for lot in order[:count]:
            used = sum(1 for x in lots if x.is_reserved)
            for i in range(len(BASES)):
                basis = BASES[(used + i) % len(BASES)]
                if can_reserve(lot.category, basis, lot.duration_months):
                    break
            inp = services.lot_input(lot)
            inp.reservation = ReservationBasis(basis)
            services.update_lot(officer, lot, inp, lot.version)

    reserve(NATURAL_RESERVED)
    db.session.commit()
    natural = _clause_count(tender.id)
    clauses = natural
    while clauses < MIN_CLAUSES and any(not lot.is_reserved for lot in lots):
        reserve(1)
        db.session.commit()
        clauses = _clause_count(tender.id)
    if clauses < MIN_CLAUSES:
        raise RuntimeError(f"the tender's specification holds only {clauses} clauses")
    bases: dict[str, int] = {}
    for lot in lots:
        if lot.is_reserved:
            bases[lot.reservation.value] = bases.get(lot.reservation.value, 0) + 1
    return BigTender(tender.id, NATURAL_RESERVED, natural, sum(bases.values()), clauses, bases)


# --- 1. render time ---------------------------------------------------------------------------------

def baseline_docx(asm: Any) -> bytes:
    """The same title, headings, paragraphs and tables as ``render_docx`` writes, with plain
    python-docx: the default template, no master, no docxtpl."""
    from srpp.documents.kinds import Block

    doc = Document()
    doc.add_heading(asm.kind_label, 0)
    for line in (asm.subject_title, asm.authority, asm.subject.reference, "2026-11-26 12:00"):
        doc.add_paragraph(line)

    def table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = (), label: bool = False) -> None:
        cols = len(headers) if headers else max((len(r) for r in rows), default=1)
        t = doc.add_table(rows=0, cols=cols)
        t.style = doc.styles["Table Grid"]
        if headers:
            for cell, text in zip(t.add_row().cells, headers, strict=False):
                run = cell.paragraphs[0].add_run(text)
                run.bold = True
                run.font.size = Pt(9)
        for row in rows:
            for i, (cell, text) in enumerate(zip(t.add_row().cells, row, strict=False)):
                para = cell.paragraphs[0]
                run = para.add_run(text)
                run.font.size = Pt(9)
                run.bold = label and i == 0
                if i in numeric:
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        doc.add_paragraph("")

    def block(b: Block) -> None:
        if b.kind in ("paragraphs", "bullets"):
            for item in b.items:
                doc.add_paragraph(item, style="List Bullet" if b.kind == "bullets" else None)
        elif b.kind == "facts":
            table([], [[k, v] for k, v in b.pairs], label=True)
        elif b.kind == "table":
            if b.caption:
                doc.add_paragraph(b.caption, style="Caption")
            table(b.headers, b.rows, numeric=b.numeric)

    for section in asm.sections:
        doc.add_paragraph(f"{section.number}. {section.title}", style="Heading 1")
        for b in section.blocks:
            block(b)
        for clause in section.clauses:
            heading = f"{clause.number}. {clause.title}" + (f" — {clause.scope}" if clause.scope else "")
            doc.add_paragraph(heading, style="Heading 2")
            for para in clause.paragraphs:
                doc.add_paragraph(para.text, style="List Bullet" if para.style == "bullet" else None)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def timed(fns: dict[str, Callable[[], Any]], runs: int = RUNS, warmup: int = WARMUP) -> dict[str, list[float]]:
    """Seconds per call of each function, the functions taking turns (so that a burst of load from
    another process on the machine hits them all alike); the warm-up rounds are not kept."""
    times: dict[str, list[float]] = {key: [] for key in fns}
    for round_no in range(warmup + runs):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if round_no >= warmup:
                times[key].append(time.perf_counter() - t0)
    return times


#: where the worker path spends its time: (label, path suffix of the function's file, function name)
PROFILE_PARTS = [
    ("`subjects.load` (tender, lots, criteria)", "srpp/documents/subjects.py", "load"),
    ("`assembly.assemble`", "srpp/documents/assembly.py", "assemble"),
    ("  of which `library.render_text` (a sandboxed Jinja environment and template per clause)",
     "srpp/clauses/library.py", "render_text"),
    ("`render_docx`", "srpp/documents/render.py", "render_docx"),
    ("  of which docxtpl `render` (header, footer, title of the master)", "docxtpl/template.py", "render"),
    ("  of which the data tables (`_Writer._table`)", "srpp/documents/render.py", "_table"),
    ("  of which python-docx style look-ups by name (`DocumentPart.get_style_id`)", "docx/parts/document.py",
     "get_style_id"),
    ("  of which `Document.save` (zip the package)", "docx/document.py", "save"),
]
PROFILED = 5  # documents per profile


@dataclass
class Profile:
    per_document_ms: float
    parts: list[tuple[str, float]]  # (label, ms per document, cumulative)
    top: list[str]  # printable lines


def profile(fn: Callable[[], Any], top: int = PROFILE_TOP) -> Profile:
    """cProfile of ``PROFILED`` calls of ``fn``: the parts of ``PROFILE_PARTS`` and the functions
    with the most cumulative and own time (ms per document; cProfile slows everything down)."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(PROFILED):
        fn()
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = [(cum / PROFILED * 1000, own / PROFILED * 1000, calls / PROFILED, path, name)
            for (path, _line, name), (_cc, calls, own, cum, _callers) in stats.items()]
    total = max(r[0] for r in rows)
    parts = []
    for label, suffix, name in PROFILE_PARTS:
        parts.append((label, sum(r[0] for r in rows if r[3].endswith(suffix) and r[4] == name)))
    lines = [f"profile of (a), {PROFILED} documents, {total:.0f} ms/document under cProfile:"]
    lines += [f"  {ms:7.1f} ms  {ms / total:4.0%}  {label.strip()}" for label, ms in parts]

    def show(row: tuple) -> str:
        cum, own, calls, path, name = row
        where = "/".join(Path(path).parts[-2:]) if path.startswith("/") else path
        return f"  {cum:8.1f} {own:8.1f} {calls:9.0f}  {where}:{name}"

    header = f"  {'cum ms':>8} {'own ms':>8} {'calls':>9}  per document"
    lines += ["top by cumulative time:", header, *map(show, sorted(rows, reverse=True)[:top])]
    lines += ["top by own time:", header, *map(show, sorted(rows, key=lambda r: r[1], reverse=True)[:top])]
    return Profile(total, parts, lines)


@dataclass
class RenderResult:
    tender: BigTender
    lang: str
    sizes: dict[str, int]
    times: dict[str, list[float]]
    profile: Profile
    queries: int  # SQL statements of one run of (a)
    small: tuple[str, int, int]  # the demo tender compared too: reference, lots, clause instances

    def median_ms(self, key: str) -> float:
        return statistics.median(self.times[key]) * 1000

    def ratio(self, key: str, baseline: str = "baseline") -> float:
        return statistics.median(self.times[key]) / statistics.median(self.times[baseline])


def measure_render(lang: str = "lt") -> RenderResult:
    from srpp.auth.models import User
    from srpp.documents import assembly, services, subjects
    from srpp.documents.kinds import KINDS
    from srpp.documents.models import GeneratedDocument
    from srpp.documents.render import render_docx
    from srpp.extensions import db
    from srpp.tenders.models import Tender

    generated = "2026-11-26 12:00"
    app = app_for(None)  # eager: the request below generates the document in-process once
    try:
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            big = build_tender()
            officer = db.session.scalar(select(User).where(User.email == OFFICER))
            doc = services.request_document(officer, KINDS["tender_specification"],
                                            subjects.load("tender", big.tender_id), lang,
                                            {"social_services_unit": SOCIAL_SERVICES_UNIT})
            if doc.state.value != "done":
                raise RuntimeError(f"the document was not generated: {doc.job.error}")
            doc_id = doc.id

            def worker_path() -> bytes:
                # as in a worker task: a fresh session, the document row, then build_bytes
                db.session.remove()
                return services.build_bytes(db.session.get(GeneratedDocument, doc_id))

            db.session.remove()
            document = db.session.get(GeneratedDocument, doc_id)
            editions = list(document.editions)
            subject = subjects.load("tender", big.tender_id)

            def assemble() -> assembly.Assembly:
                return assembly.assemble(document.kind, subject, lang, document.values, document.options,
                                         editions=editions)

            asm = assemble()
            if asm.clause_count() != big.clauses:
                raise RuntimeError(f"{asm.clause_count()} clauses, expected {big.clauses}")
            # for comparison, the first demo tender: a typical small one
            first = db.session.scalar(select(Tender).where(Tender.id != big.tender_id).order_by(Tender.id))
            small_asm = assembly.assemble("tender_specification", subjects.load("tender", first.id), lang,
                                          {"social_services_unit": SOCIAL_SERVICES_UNIT})
            small = (small_asm.subject.reference, len(first.lots), small_asm.clause_count())
            sizes = {"worker": len(worker_path()), "render": len(render_docx(asm, generated)),
                     "baseline": len(baseline_docx(asm))}
            times = timed({"worker": worker_path, "assemble": assemble,
                           "render": lambda: render_docx(asm, generated), "baseline": lambda: baseline_docx(asm),
                           "small_render": lambda: render_docx(small_asm, generated),
                           "small_baseline": lambda: baseline_docx(small_asm)})
            with QueryCounter(app.extensions["srpp_engine"]) as counter:
                worker_path()
            result = RenderResult(big, lang, sizes, times, profile(worker_path), counter.count, small)
            db.session.remove()
    finally:
        app.extensions["srpp_engine"].dispose()
    return result


# --- 2. throughput -----------------------------------------------------------------------------------

class Worker:
    """A ``celery worker`` process (the command line of tests/conftest.py's WorkerProcess)."""

    def __init__(self, name: str, concurrency: int = 1, url: str = URL, redis_url: str = REDIS_URL,
                 secret: str = SECRET) -> None:
        self.name = name
        self.concurrency = concurrency
        self.url, self.redis_url, self.secret = url, redis_url, secret
        self.log = Path(tempfile.mkdtemp(prefix="srpp-bench-worker-")) / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
        env.update({"DATABASE_URL": self.url, "REDIS_URL": self.redis_url, "SRPP_ARGON2_PROFILE": "test",
                    "SECRET_KEY": self.secret, "PYTHONUNBUFFERED": "1"})
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel=INFO",
                 f"--hostname={self.name}@%h", f"--concurrency={self.concurrency}", "--pool=prefork",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return
            if self.proc is None or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"celery worker {self.name} did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def succeeded(self) -> int:
        """Document tasks this worker logged as succeeded."""
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if "srpp.documents.generate[" in line and " succeeded in " in line)

    def remove_log(self) -> None:
        shutil.rmtree(self.log.parent, ignore_errors=True)

    def stop(self) -> None:
        stop_group(self.proc)  # the worker and its pool children (its own group)


def stop_group(proc: subprocess.Popen | None) -> None:
    """Stop a process started with ``start_new_session=True`` and its children: SIGTERM to its group,
    SIGKILL after 30 s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


@dataclass
class Pass:
    label: str
    documents: int
    enqueue_seconds: float  # first request to the last task sent
    seconds: float  # first request to the last job seen done
    drain_seconds: float  # first job started to the last finished (job_runs timestamps)
    tail_documents: int  # jobs finished after the last request was sent
    tail_seconds: float  # from the last request sent to the last job finished
    render_seconds: list[float]  # build_bytes time of each job (from its result)
    per_worker: list[int]  # tasks each worker process logged as succeeded
    tenders: int  # distinct demo tenders requested (each in lt and en)

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds

    @property
    def drain_per_second(self) -> float:
        return self.documents / self.drain_seconds

    @property
    def tail_per_second(self) -> float:
        """Documents/s once the bench process stopped sending requests (the workers alone)."""
        return self.tail_documents / self.tail_seconds

    @property
    def render_median_ms(self) -> float:
        return statistics.median(self.render_seconds) * 1000


def demo_requests(exclude_tender: int) -> list[tuple[str, int, str]]:
    """(officer e-mail, tender id, language) for every demo tender in both languages."""
    from srpp.extensions import db
    from srpp.orgs.models import Municipality
    from srpp.tenders.models import Tender

    rows = db.session.execute(select(Tender.id, Municipality.code).join(Municipality, Tender.municipality)
                              .where(Tender.id != exclude_tender).order_by(Tender.id)).all()
    return [(f"officer.{code.lower()}@demo.srpp.lt", tender_id, lang) for tender_id, code in rows
            for lang in ("lt", "en")]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def throughput(app: Flask, label: str, workers: list[Worker], exclude_tender: int) -> Pass:
    """Start the workers, request ``QUEUED`` documents, wait until every job is done, stop them."""
    from srpp.auth.models import User
    from srpp.core.models import JobRun, JobState
    from srpp.documents import services, subjects
    from srpp.documents.kinds import KINDS
    from srpp.extensions import db

    redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.wait_ready()
        kind = KINDS["tender_specification"]
        job_ids: list[int] = []
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            requests = demo_requests(exclude_tender)
            users = {email: db.session.scalar(select(User).where(User.email == email)) for email, _t, _l in requests}
            started = time.perf_counter()
            for i in range(QUEUED):
                email, tender_id, lang = requests[i % len(requests)]
                doc = services.request_document(users[email], kind, subjects.load("tender", tender_id), lang,
                                                {"social_services_unit": SOCIAL_SERVICES_UNIT})
                job_ids.append(doc.job_id)
            enqueued = time.perf_counter() - started
            enqueued_at = dt.datetime.now(dt.UTC)
            finished = JobRun.state.in_((JobState.DONE, JobState.FAILED))
            deadline = time.monotonic() + 600
            while True:
                done = db.session.scalar(select(func.count()).select_from(JobRun)
                                         .where(JobRun.id.in_(job_ids), finished))
                db.session.rollback()
                if done == len(job_ids):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{label}: only {done} of {len(job_ids)} jobs finished in 10 minutes "
                                       f"(worker logs: {', '.join(str(w.log) for w in workers)})")
                time.sleep(0.02)
            seconds = time.perf_counter() - started
            jobs = db.session.scalars(select(JobRun).where(JobRun.id.in_(job_ids))).all()
            failed = [j for j in jobs if j.state != JobState.DONE]
            if failed:
                raise RuntimeError(f"{label}: {len(failed)} jobs failed, e.g. {failed[0].error} "
                                   f"(worker logs: {', '.join(str(w.log) for w in workers)})")
            last = max(_aware(j.finished_at) for j in jobs)
            drain = (last - min(_aware(j.started_at) for j in jobs)).total_seconds()
            tail = sum(1 for j in jobs if _aware(j.finished_at) > enqueued_at)
            renders = [float((j.result or {}).get("render_seconds") or 0) for j in jobs]
            db.session.remove()
    finally:
        for w in workers:
            w.stop()
    per_worker = [w.succeeded() for w in workers]
    for w in workers:  # kept when the pass failed, for the error's context
        w.remove_log()
    return Pass(label, len(job_ids), enqueued, seconds, drain, tail, (last - enqueued_at).total_seconds(), renders,
                per_worker,
                len({tender_id for _e, tender_id, _l in requests}))


def measure_throughput(exclude_tender: int) -> list[Pass]:
    app = app_for(REDIS_URL)
    try:
        one = throughput(app, "1 process (`--concurrency=1`)", [Worker("bench-docs-1")], exclude_tender)
        two = throughput(app, "2 processes (2 workers × `--concurrency=1`)",
                         [Worker("bench-docs-1"), Worker("bench-docs-2")], exclude_tender)
    finally:
        app.extensions["srpp_engine"].dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()
    return [one, two]


# --- report --------------------------------------------------------------------------------------------

LABELS = {"worker": "(a) worker path: `services.build_bytes` (load subject + `assemble` + `render_docx`)",
          "assemble": "  of which `assemble` alone",
          "render": "(b) `render_docx` alone (master + docxtpl + python-docx)",
          "baseline": "(c) baseline: the same headings, paragraphs and tables with plain `docx.Document()`"}


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def run() -> list[str]:
    loads = {}
    try:
        setup = prepare_database()
        print(f"database {make_url(URL).database}: created, migrated, demo region loaded in {setup:.1f} s", flush=True)
        loads["render"] = load_average()
        print(f"load average (1/5/15 min) before the render measurement: {loads['render']}", flush=True)
        r = measure_render()
        big = r.tender
        print(f"tender T-{big.tender_id}: {LOTS} lots, {big.reserved} reserved ({big.bases}); {big.clauses} clause "
              f"instances (with {big.natural_reserved} reserved lots: {big.natural_clauses})", flush=True)
        for key, label in LABELS.items():
            q = r.times[key]
            print(f"{label.replace('`', ''):<88} median {r.median_ms(key):6.1f} ms  min {min(q) * 1000:6.1f}  "
                  f"max {max(q) * 1000:6.1f}  ({RUNS} runs)", flush=True)
        print(f"ratio (a)/(c) {r.ratio('worker'):.2f}×  (b)/(c) {r.ratio('render'):.2f}×  target (a)/(c) ≤ "
              f"{TARGET_RATIO}×", flush=True)
        print(f"demo tender {r.small[0]} ({r.small[1]} lots, {r.small[2]} clauses): render_docx "
              f"{r.median_ms('small_render'):.1f} ms, baseline {r.median_ms('small_baseline'):.1f} ms = "
              f"{r.ratio('small_render', 'small_baseline'):.2f}×", flush=True)
        print(f"SQL statements in one run of (a): {r.queries}", flush=True)
        for line in r.profile.top:
            print(line, flush=True)
        loads["throughput"] = load_average()
        print(f"load average (1/5/15 min) before the throughput passes: {loads['throughput']}", flush=True)
        passes = measure_throughput(big.tender_id)
        for p in passes:
            print(f"{p.label:<44} {p.documents} documents in {p.seconds:5.1f} s = {p.per_second:5.2f} docs/s "
                  f"(requests sent in {p.enqueue_seconds:.1f} s; workers busy {p.drain_seconds:.1f} s; after the "
                  f"last request {p.tail_documents} in {p.tail_seconds:.1f} s = {p.tail_per_second:.2f} docs/s; "
                  f"build_bytes median {p.render_median_ms:.0f} ms; tasks per worker {p.per_worker})", flush=True)
        one, two = passes
        print(f"two processes / one: {two.per_second / one.per_second:.2f}×", flush=True)
    finally:
        drop_database(URL)
    return report_lines(r, passes, loads)


def report_lines(r: RenderResult, passes: list[Pass], loads: dict[str, str]) -> list[str]:
    big = r.tender
    one, two = passes
    natural = ("" if big.natural_clauses >= MIN_CLAUSES else
               f" (With {big.natural_reserved} reserved lots the selection gives {big.natural_clauses} clause "
               f"instances, fewer than {MIN_CLAUSES}, so more lots were reserved: the reservation clauses repeat per "
               "reserved lot.)")
    met = r.ratio("worker") <= TARGET_RATIO
    cores = len(os.sched_getaffinity(0))
    busy = max(float(x.split(" / ")[0]) for x in loads.values()) > cores
    lines = [
        "### Documents (`bench/bench_documents.py`)",
        "",
        f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {cores} CPU cores._ "
        "A fresh PostgreSQL database `srpp_bench_docs` with the demo region, created and dropped by the run."
        + (" Other processes were running on the machine (a load average above the number of cores, given below): "
           "the times are pessimistic and vary between runs; the ratios within a run are the figures to compare."
           if busy else ""),
        "",
        f"**Render time** of the tender specification ({r.lang}) of a tender with {LOTS} lots (each with a service "
        f"category, CPV codes, value, duration and three award criteria), {big.reserved} of them reserved "
        f"({', '.join(f'{k} {v}' for k, v in sorted(big.bases.items()))}): {big.clauses} clause "
        f"instances.{natural} One process; the four steps take turns, {WARMUP} rounds of warm-up then {RUNS} "
        f"timed rounds; (a) starts each run with a fresh session, as a worker task does, and runs {r.queries} SQL "
        f"statements. Load average (1/5/15 min) before: {loads['render']}.",
        "",
        *report.table(["step", "median ms", "min ms", "max ms", "× (c)", ".docx bytes"], [
            (LABELS[key], f"{r.median_ms(key):.1f}", f"{min(r.times[key]) * 1000:.1f}",
             f"{max(r.times[key]) * 1000:.1f}", f"{r.ratio(key):.2f}", f"{r.sizes[key]:,}" if key in r.sizes else "—")
            for key in LABELS
        ], right=[1, 2, 3, 4, 5]),
        "",
        f"Target (a) ≤ {TARGET_RATIO}× (c): **{'met' if met else 'missed'}** ((a)/(c) = {r.ratio('worker'):.2f}×, "
        f"(b)/(c) = {r.ratio('render'):.2f}×). For comparison, a typical small tender, the demo's {r.small[0]} "
        f"({r.small[1]} lots, {r.small[2]} clause instances): `render_docx` {r.median_ms('small_render'):.1f} ms "
        f"against the baseline's {r.median_ms('small_baseline'):.1f} ms "
        f"(**{r.ratio('small_render', 'small_baseline'):.2f}×**). The baseline writes body paragraphs in the default "
        "template's Normal style (it has no Clause Text style); headings, bullets and captions by style name, "
        "like the renderer.",
        "",
        f"Where (a) spends its time (cProfile, {PROFILED} documents, {r.profile.per_document_ms:.0f} ms per document "
        "under the profiler; cumulative times, so the nested parts overlap):",
        "",
        *report.table(["part", "ms per document", "share"],
                      [(label, f"{ms:.1f}", f"{ms / r.profile.per_document_ms:.0%}") for label, ms in r.profile.parts],
                      right=[1, 2]),
        "",
        f"**Throughput** of {QUEUED} queued documents: tender specifications of the {one.tenders}"
        " demo tenders in lt and en, in turn, requested with `services.request_document` (the values checked, the "
        "document and job rows committed, the task sent to Redis) from the bench process, and generated by real "
        "`celery -A workers.celery_app worker --pool=prefork` processes started before the pass (two separate worker "
        "processes of concurrency 1 for the second line). Time from the first request to the last `job_runs` row "
        "done (polled every 20 ms); the requests are sent while the workers run, and the bench process, "
        f"PostgreSQL and Redis share the same {cores} cores with the workers. Load average (1/5/15 min) before: "
        f"{loads['throughput']}.",
        "",
        *report.table(
            ["worker processes", "documents", "seconds", "**documents/s**", "requests sent in s",
             "documents/s after the last request", "`build_bytes` median ms", "tasks per process"],
            [(p.label, str(p.documents), f"{p.seconds:.1f}", f"**{p.per_second:.2f}**", f"{p.enqueue_seconds:.1f}",
              f"{p.tail_per_second:.2f} ({p.tail_documents} in {p.tail_seconds:.1f} s)", f"{p.render_median_ms:.0f}",
              " + ".join(map(str, p.per_worker))) for p in passes],
            right=[1, 2, 3, 4, 5, 6]),
        "",
        f"Two worker processes / one: **{two.per_second / one.per_second:.2f}×** in documents/s from the first "
        f"request to the last done; {two.tail_per_second / one.tail_per_second:.2f}× once the bench process had "
        "sent its requests (the workers then have the cores to themselves, but for PostgreSQL). `build_bytes` "
        "median: the time each job reports for loading, assembling and rendering.",
    ]
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
