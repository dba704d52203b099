"""Load test in the production shape (issue 10): gunicorn with several workers, PostgreSQL, Redis and
two Celery workers on this machine, against the synthetic region, with many concurrent clients on a
realistic mix of anonymous and logged-in requests.

    .venv/bin/python -m bench.bench_load --clients 20 --seconds 20     # a short run, results printed
    .venv/bin/python -m bench.run load                                  # 50 × 60 s, into docs/PERFORMANCE.md

**Data.** The PostgreSQL database ``srpp_load``: the synthetic region of ``bench/synth.py`` at the
default scale (60 municipalities, 100 000 plan items, 100 000 lots, 1 000 000 invoices …) with the
demo region loaded next to it (its frameworks, tenders, clause library, indicator values and logins
are what the call-offs, document requests and dashboards need), and a draft plan version (a copy
of the published one) for the first ``DRAFTS`` synthetic municipalities, whose items the plan edits
change. The database is built once and reused by later runs (``--rebuild`` builds it again); a run
adds call-offs, documents and edits to it.

**Processes.** ``gunicorn 'srpp:create_app()'`` (``GUNICORN_WORKERS`` processes of the gthread
worker with ``GUNICORN_THREADS`` threads) and two ``celery -A workers.celery_app worker -c 1``
processes, each in its own process group, all stopped at the end. Redis database 13
(``SRPP_LOAD_REDIS_URL``; the documents benchmark uses 14, the tests 15), flushed first. The
per-address limits on logins and on the API are raised: the clients all come from 127.0.0.1, where
production traffic comes from many addresses.

**Clients.** ``--clients`` threads (default 50), each a user of a persona (``PERSONAS``: visitors,
the council, finance officers, planners, buyers, in proportion to their shares) with its own cookie
session and one account (none for a visitor), logged in through the login form on its first
request; each picks its next action by its persona's weights and runs it, without think time (or
pausing ``--think`` seconds on average), for ``--ramp`` seconds (default 20: logging in and filling
the page cache, as in a system that has been running; counted apart) and then ``--seconds`` (default
60), the measured window. Forms are read from the page (CSRF token, hidden fields, current values)
and posted back changed. An error is a 5xx answer, a timeout or a connection error; an answer that
refuses (a cap reached, an item changed by someone else, a document with missing values) is counted
as refused, not as an error; any other unexpected status is counted apart ("unexpected") and
printed. After the run the document jobs are awaited and each requested document is checked to
have been produced exactly once (its job done, one ``document_files`` row for its format)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import html.parser
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench import report, synth
from bench.bench_documents import Worker, stop_group
from srpp import migrate
from srpp.documents.forms import PREFIX

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("SRPP_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/srpp_load")
REDIS_URL = os.environ.get("SRPP_LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "bench-load-secret-of-at-least-thirty-two-characters"
SEED = 1
#: 50 clients for 60 s unless ``SRPP_LOAD_CLIENTS`` / ``SRPP_LOAD_SECONDS`` say otherwise (``bench.run`` has no options)
CLIENTS = int(os.environ.get("SRPP_LOAD_CLIENTS", "50"))
SECONDS = float(os.environ.get("SRPP_LOAD_SECONDS", "60"))
#: the mean pause of a client between two actions in the paced run (a person reading the page): uniform
#: between half and one and a half times this; the saturation run has none
THINK = float(os.environ.get("SRPP_LOAD_THINK", "3"))
#: seconds the clients run their mix before the measured window (logging in, filling the page cache, as
#: in a system that has been running); their requests are counted apart
RAMP = float(os.environ.get("SRPP_LOAD_RAMP", "20"))
GUNICORN_WORKERS = int(os.environ.get("SRPP_LOAD_WORKERS", "8"))
GUNICORN_THREADS = int(os.environ.get("SRPP_LOAD_THREADS", "2"))
CELERY_WORKERS = 2
TIMEOUT = 30.0  # seconds a client waits for an answer before counting a timeout
DOCUMENT_WAIT = 600.0  # seconds to wait for the requested documents after the run
DRAFTS = 10  # synthetic municipalities with a draft plan version for the plan edits
SAMPLE = 2000  # item uids and lot ids the clients choose from
PAGE_TARGET_MS = 300
DEMO_PASSWORD = "demo12345"
DOCUMENT_KIND = "tender_specification"
SOCIAL_SERVICES_UNIT = "Socialinių paslaugų skyrius / Social services department"
#: the environment of the web and worker processes (the production settings but for the secret)
ENV = {"DATABASE_URL": URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET, "SRPP_MAIL_BACKEND": "memory",
       "SRPP_LOGIN_RATE_LIMIT": "100000 per minute", "SRPP_API_RATE_LIMIT": "100000 per minute",
       "PYTHONUNBUFFERED": "1"}


# --- the database ------------------------------------------------------------------------------------

def _engine() -> Engine:
    return create_engine(URL, pool_size=2)


def database_ready() -> bool:
    """Whether ``srpp_load`` holds the synthetic region, the demo region and the draft versions."""
    engine = _engine()
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text(
                "SELECT (SELECT count(*) FROM users WHERE email = 'admin@demo.srpp.lt') = 1"
                " AND (SELECT count(*) FROM municipalities WHERE code LIKE 'SYN%') > 0"
                " AND (SELECT count(*) FROM plan_versions WHERE state = 'draft'"
                "      AND municipality_id IN (SELECT id FROM municipalities WHERE code LIKE 'SYN%')) >= :n"),
                {"n": DRAFTS}))
    except OperationalError:
        return False
    except Exception:  # noqa: BLE001 - a half-built or older schema: build again
        return False
    finally:
        engine.dispose()


#: the generators of bench/synth.py whose rows the demo region has loaded already (the same files)
REFERENCE_GENERATORS = {"cpv_vocabulary", "service_categories", "funding_measures", "reference_rates"}


def _draft_versions() -> None:
    """A new (draft) version of the plan of the first ``DRAFTS`` synthetic municipalities, started by
    their procurement officer through the plan service (it copies the published items)."""
    from srpp.auth.models import User
    from srpp.extensions import db
    from srpp.orgs.models import Municipality
    from srpp.plans import services
    from srpp.plans.models import ProcurementPlan

    for n in range(DRAFTS):
        code = synth.municipality_code(n)
        officer = db.session.scalar(select(User).where(User.email == f"officer.{code.lower()}@{synth.EMAIL_DOMAIN}"))
        plan = db.session.scalar(select(ProcurementPlan).join(Municipality).where(Municipality.code == code))
        services.start_new_version(officer, plan)
        db.session.commit()


def prepare_database(rebuild: bool = False) -> str:
    """Build ``srpp_load`` unless it is there already: created and migrated, the demo region loaded,
    then the synthetic region's generators (but for the reference tables the demo loaded) and the
    draft versions; says what it did."""
    if not rebuild and database_ready():
        return f"`{make_url(URL).database}` reused (built by an earlier run)"
    started = time.perf_counter()
    synth.create_database(make_url(URL))
    migrate.upgrade(URL)
    from srpp import create_app
    from srpp.demo import loader

    app = create_app({"DATABASE_URL": URL, "REDIS_URL": None, "CELERY_EAGER": True, "ARGON2_PROFILE": "test",
                      "MAIL_BACKEND": "memory", "PAGE_CACHE": False})
    try:
        with app.app_context():
            loader.load()
        print(f"{'demo region':<28} {time.perf_counter() - started:8.2f} s", flush=True)
        engine = _engine()
        try:
            for gen in synth.GENERATORS:
                if gen.name not in REFERENCE_GENERATORS:
                    synth.print_step(synth.run_generator(engine, gen, synth.Scale(), SEED))
        finally:
            engine.dispose()
        step = time.perf_counter()
        with app.app_context():
            _draft_versions()
        print(f"{'draft versions':<28} {time.perf_counter() - step:8.2f} s", flush=True)
    finally:
        app.extensions["srpp_engine"].dispose()
    engine = _engine()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    return f"`{make_url(URL).database}` built in {time.perf_counter() - started:.0f} s"


@dataclass
class Targets:
    """What the clients request, read from the database before the run."""

    item_uids: list[str]
    lot_ids: list[int]
    municipalities: list[str]  # codes, demo and synthetic
    demo_municipalities: list[str]
    categories: list[str]
    quarters: list[str]
    #: (officer e-mail, draft item id)
    draft_items: list[tuple[str, int]]
    #: (officer e-mail, framework id, municipality id)
    call_offs: list[tuple[str, int, int]]
    #: (officer e-mail, tender id)
    tenders: list[tuple[str, int]]
    councils: list[str]
    finance: list[str]
    api_paths: list[str] = field(default_factory=list)

    @staticmethod
    def of(rows: list[tuple[Any, ...]], account: str | None) -> list[Any]:
        """The rows of ``account`` (the first column), without it."""
        return [row[1] if len(row) == 2 else row[1:] for row in rows if row[0] == account]

    def mix(self, persona: str) -> list[tuple[str, int]]:
        """The persona's actions, but for the API when it answered nothing."""
        return [(name, w) for name, w in PERSONAS[persona][1] if name != "api" or self.api_paths]

    def accounts(self, persona: str) -> list[str]:
        if persona == "council":
            return self.councils
        if persona == "finance":
            # the demo municipalities' (theirs have indicator values for the KPI dashboard)
            return [email for email in self.finance if email.endswith("@demo.srpp.lt")]
        if persona == "planner":
            return sorted({email for email, _item in self.draft_items})
        if persona == "buyer":
            return sorted({email for email, *_ in self.call_offs} & {email for email, _t in self.tenders})
        return []

    def shares(self) -> dict[str, int]:
        """The personas that have what they need (accounts, targets) and their shares of the clients."""
        return {name: share for name, (share, _mix) in PERSONAS.items()
                if name == "visitor" or self.accounts(name)}


def read_targets() -> Targets:
    engine = _engine()
    rng = random.Random(SEED)
    try:
        with engine.connect() as conn:
            def rows(sql: str, **params: Any) -> list[Any]:
                return list(conn.execute(text(sql), params))

            uids = [r[0] for r in rows(
                "SELECT i.uid FROM plan_items i JOIN plan_versions v ON v.id = i.plan_version_id"
                " WHERE v.state = 'published' ORDER BY i.id")]
            lots = [r[0] for r in rows(
                "SELECT l.id FROM lots l JOIN tenders t ON t.id = l.tender_id"
                " WHERE t.state = 'published' ORDER BY l.id")]
            codes = [r[0] for r in rows("SELECT code FROM municipalities ORDER BY sort_order, id")]
            drafts = rows(
                "SELECT m.code, i.id FROM plan_items i JOIN plan_versions v ON v.id = i.plan_version_id"
                " JOIN municipalities m ON m.id = v.municipality_id"
                " WHERE v.state = 'draft' AND m.code LIKE 'SYN%' ORDER BY i.id")
            call_offs = rows(
                "SELECT m.code, f.id, m.id FROM framework_participants p"
                " JOIN framework_agreements f ON f.id = p.framework_id"
                " JOIN municipalities m ON m.id = p.municipality_id"
                " WHERE f.state = 'active' AND m.code NOT LIKE 'SYN%' ORDER BY f.id, m.id")
            tenders = rows(
                "SELECT m.code, t.id FROM tenders t JOIN municipalities m ON m.id = t.municipality_id"
                " WHERE m.code NOT LIKE 'SYN%' ORDER BY t.id")
            councils = [r[0] for r in rows(
                "SELECT u.email FROM users u JOIN memberships ms ON ms.user_id = u.id"
                " WHERE ms.role = 'council_viewer' ORDER BY u.id")]
            finance = [r[0] for r in rows(
                "SELECT u.email FROM users u JOIN memberships ms ON ms.user_id = u.id"
                " WHERE ms.role = 'finance_officer' ORDER BY u.id")]
            categories = [r[0] for r in rows("SELECT key FROM service_categories ORDER BY sort_order")]
            months = [r[0] for r in rows("SELECT DISTINCT launch_month FROM plan_items ORDER BY 1")]
    finally:
        engine.dispose()
    demo_codes = [c for c in codes if not c.startswith("SYN")]

    def officer(code: str) -> str:
        return (f"officer.{code.lower()}@{synth.EMAIL_DOMAIN}" if code.startswith("SYN")
                else f"officer.{code.lower()}@demo.srpp.lt")

    return Targets(
        item_uids=rng.sample(uids, min(SAMPLE, len(uids))), lot_ids=rng.sample(lots, min(SAMPLE, len(lots))),
        municipalities=codes, demo_municipalities=demo_codes, categories=categories,
        quarters=sorted({f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months if m}),
        draft_items=[(officer(code), item_id) for code, item_id in drafts],
        call_offs=[(officer(code), fid, mid) for code, fid, mid in call_offs],
        tenders=[(officer(code), tid) for code, tid in tenders],
        councils=councils, finance=finance)


# --- the processes ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn 'srpp:create_app()'`` in its own process group, logging to a temporary file."""

    def __init__(self, workers: int = GUNICORN_WORKERS, threads: int = GUNICORN_THREADS) -> None:
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="srpp-bench-load-")) / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
        env.update(ENV)
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "srpp:create_app()", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--worker-class", "gthread", "--threads", str(self.threads),
                 # idle keep-alive connections outlive a client's think time (gunicorn's default is 2 s)
                 "--keep-alive", os.environ.get("SRPP_LOAD_KEEPALIVE", "10"),
                 "--timeout", "120", "--graceful-timeout", "10", "--backlog", "2048", "--error-logfile", "-"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                break
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        stop_group(self.proc)

    def errors(self, limit: int = 10) -> list[str]:
        """The distinct errors the web processes logged: message and the last line of the traceback."""
        seen: dict[str, int] = {}
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") == "ERROR":
                last = (entry.get("exc") or "").strip().splitlines()[-1:] or [""]
                key = f"{entry.get('msg')}: {last[0][:300]}"
                seen[key] = seen.get(key, 0) + 1
        return [f"{n:5} × {key}" for key, n in sorted(seen.items(), key=lambda kv: -kv[1])[:limit]]

    def remove_log(self) -> None:
        shutil.rmtree(self.log.parent, ignore_errors=True)


@contextlib.contextmanager
def services() -> Iterator[Gunicorn]:
    """Redis flushed, gunicorn and the Celery workers started; all stopped on the way out."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    web = Gunicorn()
    workers = [Worker(f"bench-load-{n + 1}", url=URL, redis_url=REDIS_URL, secret=SECRET)
               for n in range(CELERY_WORKERS)]
    try:
        web.start()
        for w in workers:
            w.start()
        web.wait_ready()
        for w in workers:
            w.wait_ready()
        yield web
    finally:
        web.stop()
        for w in workers:
            w.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
    web.remove_log()
    for w in workers:
        w.remove_log()


# --- forms --------------------------------------------------------------------------------------------

@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]]  # as the browser would send them, in order
    buttons: list[tuple[str, str]]  # named submit buttons

    def data(self, **changes: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in self.fields:
            out.setdefault(name, value)
        out.update(changes)
        return out

    def get(self, name: str, default: str = "") -> str:
        return next((v for n, v in self.fields if n == name), default)


class _FormParser(html.parser.HTMLParser):
    """The forms of a page with the values a browser would submit (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list[str] | None = None
        self._option_selected = False
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), [], [])
            self.forms.append(self._form)
        if self._form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "button"):
                self._form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            elif kind != "file":
                self._form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name:
            self._form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            self._option, self._option_selected = [a["value"]] if "value" in a else [], "selected" in a
            self._option_has_value = "value" in a
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None and not self._option_has_value:
            self._option.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._select is not None and self._option is not None:
            self._select[1].append(("".join(self._option), self._option_selected))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = next((v for v, selected in options if selected), options[0][0] if options else None)
            if chosen is not None:
                self._form.fields.append((name, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], re.sub(r"^\r?\n", "", "".join(self._textarea[1]))))
            self._textarea = None
        elif tag == "form":
            self._form = None


_ERROR = re.compile(r'class="(?:errors|form-errors|flash flash-error|[^"]*refus[^"]*)"[^>]*>\s*(?:<[^>]+>\s*)*'
                    r'([^<]{3,200})')


def first_error(page: str) -> str:
    """The first error message of a page that refused a form (for the refusals printed)."""
    found = _ERROR.search(page)
    return " ".join(found.group(1).split()) if found else "?"


def find_form(page: str, has: str) -> Form | None:
    """The first form of ``page`` with a field or button named ``has``."""
    parser = _FormParser()
    parser.feed(page)
    return next((f for f in parser.forms if any(n == has for n, _v in [*f.fields, *f.buttons])), None)


# --- the clients ----------------------------------------------------------------------------------------

OK, REFUSED, ERROR, UNEXPECTED = "ok", "refused", "error", "unexpected"


@dataclass
class Sample:
    kind: str
    started: float  # monotonic
    seconds: float
    status: int  # 0: timeout or connection error
    outcome: str
    note: str = ""


class Stop(Exception):
    """The action cannot go on (its first request failed); already recorded."""


class Client:
    """One user: a persona (``PERSONAS``) with one account (none for a visitor), logged in on its first
    request, then its persona's actions without pause until the deadline."""

    def __init__(self, base: str, targets: Targets, seed: int, deadline: float, persona: str,
                 account: str | None, think: float = 0.0) -> None:
        self.base, self.targets, self.deadline, self.think = base, targets, deadline, think
        self.persona, self.account = persona, account
        self.rng = random.Random(seed)
        self.sessions: dict[str, requests.Session] = {}
        self.samples: list[Sample] = []
        self.documents: list[int] = []  # ids of the documents requested

    # plumbing
    def session(self, email: str | None) -> requests.Session:
        key = email or ""
        if key not in self.sessions:
            s = requests.Session()
            s.headers["User-Agent"] = "srpp-bench-load"
            s.headers["Accept-Language"] = "lt,en;q=0.8"
            self.sessions[key] = s
            if email:
                self.login(s, email)
        return self.sessions[key]

    def login(self, s: requests.Session, email: str) -> None:
        page = self.request("login", s, "GET", "/login")
        form = find_form(page.text, "password")
        if form is None:
            raise self.fail("login", page, "no login form")
        password = synth.PASSWORD if email.endswith("@" + synth.EMAIL_DOMAIN) else DEMO_PASSWORD
        answer = self.request("login", s, "POST", "/login", data=form.data(email=email, password=password),
                              expect=(302, 303))
        if answer.status_code not in (302, 303):
            raise self.fail("login", answer, f"login of {email} refused")

    def request(self, kind: str, s: requests.Session, method: str, path: str, *, expect: tuple[int, ...] = (200,),
                refused: tuple[int, ...] = (), refusal: Callable[[requests.Response], bool] | None = None,
                **kwargs: Any) -> requests.Response:
        """One timed request, recorded as ``kind``; raises ``Stop`` on an error (recorded)."""
        started = time.monotonic()
        try:
            r = s.request(method, self.base + path, timeout=TIMEOUT, allow_redirects=False, **kwargs)
            r.content  # noqa: B018 - read the whole body inside the timing
        except requests.Timeout:
            self.samples.append(Sample(kind, started, time.monotonic() - started, 0, ERROR, "timeout"))
            raise Stop from None
        except requests.RequestException as exc:
            self.samples.append(Sample(kind, started, time.monotonic() - started, 0, ERROR,
                                       f"connection: {type(exc).__name__}"))
            raise Stop from None
        seconds = time.monotonic() - started
        if r.status_code >= 500:
            outcome, note = ERROR, f"{method} {path}"
        elif r.status_code in refused or (r.status_code in expect and refusal is not None and refusal(r)):
            outcome, note = REFUSED, f"{method} {path} → {r.status_code}: {first_error(r.text)}"
        elif r.status_code in expect:
            outcome, note = OK, ""
        else:
            outcome, note = UNEXPECTED, f"{method} {path} → {r.status_code} {r.headers.get('Location', '')}"
        self.samples.append(Sample(kind, started, seconds, r.status_code, outcome, note))
        if outcome in (ERROR, UNEXPECTED):
            raise Stop
        return r

    def fail(self, kind: str, r: requests.Response, note: str) -> Stop:
        self.samples.append(Sample(kind, time.monotonic(), 0.0, r.status_code, UNEXPECTED, note))
        return Stop()

    # the request kinds
    def pipeline(self) -> None:
        rng, t = self.rng, self.targets
        args: dict[str, str] = {}
        if rng.random() < 0.4:
            args["municipality"] = rng.choice(t.municipalities)
        if rng.random() < 0.3:
            args["category"] = rng.choice(t.categories)
        if rng.random() < 0.2:
            args["reserved"] = "1"
        if rng.random() < 0.15 and t.quarters:
            args["quarter"] = rng.choice(t.quarters)
        if rng.random() < 0.15:
            args["min_value"] = str(rng.choice((10_000, 50_000, 100_000)))
        if rng.random() < 0.1:
            args["q"] = rng.choice(("Synthetic service", "paslaugos", "care", "lot 3"))
        if rng.random() < 0.3:
            args["sort"] = rng.choice(("month", "value_desc", "value_asc", "newest"))
        if rng.random() < 0.3:
            args["page"] = str(rng.randint(2, 20))
        self.request("pipeline", self.session(None), "GET", "/opportunities?" + urllib.parse.urlencode(args))

    def item(self) -> None:
        self.request("item page", self.session(None), "GET", f"/opportunities/{self.rng.choice(self.targets.item_uids)}")

    def lot(self) -> None:
        self.request("lot page", self.session(None), "GET",
                     f"/opportunities/lots/{self.rng.choice(self.targets.lot_ids)}")

    def feed(self) -> None:
        args = {"municipality": self.rng.choice(self.targets.municipalities)} if self.rng.random() < 0.7 else {}
        path = "/opportunities." + self.rng.choice(("atom", "ics")) + ("?" + urllib.parse.urlencode(args) if args else "")
        self.request("feed", self.session(None), "GET", path)

    def api(self) -> None:
        path = self.rng.choice(self.targets.api_paths)
        self.request("API list", self.session(None), "GET", path + ("&" if "?" in path else "?") + "page=1")

    def council(self) -> None:
        kind, path = self.rng.choice((("indicator dashboard", "/indicators/dashboard"), ("regional plan", "/region/plan")))
        self.request(kind, self.session(self.account), "GET", path)

    def payments(self) -> None:
        self.request("payments dashboard", self.session(self.account), "GET", "/payments/dashboard")

    def kpis(self) -> None:
        """The council any municipality's; a finance officer their own."""
        own = re.match(r"finance\.([^@]+)@demo\.", self.account or "")
        code = own.group(1).upper() if own else self.rng.choice(self.targets.demo_municipalities)
        self.request("municipality KPI dashboard", self.session(self.account), "GET",
                     f"/indicators/municipalities/{code}")

    def plan_edit(self) -> None:
        item_id = self.rng.choice(self.targets.of(self.targets.draft_items, self.account))
        s = self.session(self.account)
        page = self.request("plan edit form", s, "GET", f"/plans/items/{item_id}/edit")
        form = find_form(page.text, "estimated_value")
        if form is None:
            raise self.fail("plan edit form", page, f"no item form for item {item_id}")
        value = self.rng.randrange(5_000, 140_000, 50)
        self.request("plan edit (POST)", s, "POST", f"/plans/items/{item_id}/edit",
                     data=form.data(estimated_value=str(value),
                                    notes_for_seos=f"Load test edit {self.rng.getrandbits(32):08x}"),
                     expect=(302, 303), refused=(200, 409, 422))

    def call_off(self) -> None:
        framework_id, municipality_id = self.rng.choice(self.targets.of(self.targets.call_offs, self.account))
        s = self.session(self.account)
        path = f"/frameworks/{framework_id}/call-offs/new"
        page = self.request("call-off form", s, "GET", f"{path}?municipality={municipality_id}")
        form = find_form(page.text, "unit_price")
        if form is None:
            raise self.fail("call-off form", page, f"no call-off form on framework {framework_id}")
        changes = {"quantity": str(self.rng.randint(1, 20))}
        if not form.get("budget_line"):
            changes["budget_line"] = f"Load test budget line {self.rng.randint(1, 99)}"
        self.request("call-off (POST)", s, "POST", path, data=form.data(**changes), expect=(302, 303),
                     refused=(200, 409, 422))

    def document(self) -> None:
        tender_id = self.rng.choice(self.targets.of(self.targets.tenders, self.account))
        s = self.session(self.account)
        path = f"/documents/new/{DOCUMENT_KIND}/tender/{tender_id}"
        page = self.request("document form", s, "GET", path)
        form = find_form(page.text, "action")
        if form is None:
            raise self.fail("document form", page, f"no document form for tender {tender_id}")
        data = form.data(action="generate", language=self.rng.choice(("lt", "en")))
        if not form.get(f"{PREFIX}social_services_unit").strip():  # what the officer types in
            data[f"{PREFIX}social_services_unit"] = SOCIAL_SERVICES_UNIT
        answer = self.request("document request (POST)", s, "POST", path, data=data, expect=(302, 303),
                              refused=(422,))
        found = re.search(r"/documents/(\d+)", answer.headers.get("Location", ""))
        if answer.status_code in (302, 303) and found:
            self.documents.append(int(found.group(1)))

    def run(self) -> None:
        actions, weights = zip(*[(getattr(self, name), w) for name, w in self.targets.mix(self.persona)],
                               strict=True)
        while time.monotonic() < self.deadline:
            with contextlib.suppress(Stop):
                self.rng.choices(actions, weights)[0]()
            if self.think:
                time.sleep(min(self.rng.uniform(0.5, 1.5) * self.think, max(0.0, self.deadline - time.monotonic())))


#: persona: (share of the clients, [(action = method of ``Client``, weight)]). Visitors read the public
#: pipeline anonymously; the council and finance officers read their dashboards; planners edit items
#: of a draft plan (synthetic municipalities); buyers place call-offs and request documents (demo
#: officers, whose municipalities take part in the demo frameworks and have tenders)
PERSONAS: dict[str, tuple[int, list[tuple[str, int]]]] = {
    "visitor": (56, [("pipeline", 40), ("item", 25), ("lot", 15), ("feed", 10), ("api", 10)]),
    "council": (10, [("council", 60), ("payments", 20), ("kpis", 20)]),
    "finance": (8, [("payments", 50), ("kpis", 50)]),
    "planner": (16, [("plan_edit", 100)]),
    "buyer": (10, [("call_off", 50), ("document", 50)]),
}
#: the request kinds that are pages read by people (the 300 ms target), against feeds, the API and POSTs
PAGE_KINDS = {"pipeline", "item page", "lot page", "indicator dashboard", "regional plan", "payments dashboard",
              "municipality KPI dashboard", "plan edit form", "call-off form", "document form"}


def assign(clients: int, personas: dict[str, int]) -> list[str]:
    """The persona of each client, in proportion to the shares, interleaved (smooth weighted round robin)."""
    total = sum(personas.values())
    current = dict.fromkeys(personas, 0)
    out = []
    for _ in range(clients):
        for name, share in personas.items():
            current[name] += share
        best = max(current, key=lambda name: current[name])
        current[best] -= total
        out.append(best)
    return out


def find_api_paths(base: str) -> list[str]:
    """The list operations of the API (GET, no path parameter) that answer an anonymous client."""
    try:
        r = requests.get(f"{base}/api/v1/openapi.json", timeout=TIMEOUT)
    except requests.RequestException:
        return []
    if r.status_code != 200:
        return []
    paths = [f"/api/v1{p}" if not p.startswith("/api/") else p
             for p, ops in (r.json().get("paths") or {}).items() if "get" in ops and "{" not in p
             and not p.endswith("openapi.json")]
    out = []
    for p in paths:
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + p, timeout=TIMEOUT).status_code == 200:
                out.append(p)
    return out


def make_clients(base: str, targets: Targets, clients: int, deadline: float, think: float = 0.0) -> list[Client]:
    personas = assign(clients, targets.shares())
    seen: dict[str, int] = {}
    out = []
    for n, persona in enumerate(personas):
        accounts = targets.accounts(persona)
        account = accounts[seen.get(persona, 0) % len(accounts)] if accounts else None
        seen[persona] = seen.get(persona, 0) + 1
        out.append(Client(base, targets, SEED * 1000 + n, deadline, persona, account, think))
    return out


def warm_up(base: str, targets: Targets) -> list[Sample]:
    """One client of each persona runs each of its actions twice (the flows checked, the processes warmed up)."""
    samples = []
    seen: set[str] = set()
    for client in make_clients(base, targets, 100, time.monotonic() + 3600):
        if client.persona in seen:
            continue
        seen.add(client.persona)
        for name, _weight in targets.mix(client.persona):
            for _ in range(2):
                with contextlib.suppress(Stop):
                    getattr(client, name)()
        samples += client.samples
    return samples


def drive(base: str, targets: Targets, clients: int, seconds: float,
          think: float = 0.0, ramp: float = 0.0) -> tuple[list[Client], float, list[Sample]]:
    """``clients`` threads for ``ramp`` + ``seconds``; returns the clients with the samples of the
    measured window (requests started after the ramp), the window's wall time until the last client
    ended, and the ramp's samples."""
    started = time.monotonic()
    window = started + ramp
    workers = make_clients(base, targets, clients, window + seconds, think)
    threads = [threading.Thread(target=c.run, daemon=True) for c in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ramped = []
    for c in workers:
        ramped += [s for s in c.samples if s.started < window]
        c.samples = [s for s in c.samples if s.started >= window]
    return workers, time.monotonic() - window, ramped


# --- the documents ----------------------------------------------------------------------------------------

@dataclass
class DocumentCheck:
    requested: int
    done: int
    failed: int
    waiting: int  # not finished within DOCUMENT_WAIT
    exactly_once: int  # done, with one file of the document's format
    duplicates: int  # more than one file for the format, or a second job
    missing: int  # done without a file
    retried: int  # jobs started more than once (a transient error or a redelivered task)
    seconds: float  # from the end of the run to the last job finished


def check_documents(ids: list[int], wait: float = DOCUMENT_WAIT) -> DocumentCheck:
    engine = _engine()
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            while True:
                jobs = {i: (state, attempts) for i, state, attempts in conn.execute(text(
                    "SELECT d.id, j.state, j.attempts FROM generated_documents d JOIN job_runs j ON j.id = d.job_id"
                    " WHERE d.id = ANY(:ids)"), {"ids": ids})} if ids else {}
                states = {i: state for i, (state, _a) in jobs.items()}
                conn.rollback()
                open_ = [i for i, state in states.items() if state not in ("done", "failed")]
                if not open_ or time.monotonic() - started > wait:
                    break
                time.sleep(0.5)
            files = dict(conn.execute(text(
                "SELECT d.id, count(f.id) FROM generated_documents d"
                " LEFT JOIN document_files f ON f.document_id = d.id AND f.format = 'docx'"
                " WHERE d.id = ANY(:ids) GROUP BY d.id"), {"ids": ids}).all()) if ids else {}
    finally:
        engine.dispose()
    done = [i for i in ids if states.get(i) == "done"]
    return DocumentCheck(
        requested=len(ids), done=len(done), failed=sum(1 for i in ids if states.get(i) == "failed"),
        waiting=sum(1 for i in ids if states.get(i) not in ("done", "failed")),
        exactly_once=sum(1 for i in done if files.get(i) == 1),
        duplicates=sum(1 for i in ids if files.get(i, 0) > 1) + (len(ids) - len(set(ids))),
        missing=sum(1 for i in done if not files.get(i)),
        retried=sum(1 for _state, attempts in jobs.values() if attempts > 1),
        seconds=time.monotonic() - started)


# --- figures ------------------------------------------------------------------------------------------------

@dataclass
class Row:
    kind: str
    count: int
    per_second: float
    p50: float
    p95: float
    p99: float
    refused: int
    errors: int
    unexpected: int

    @property
    def page(self) -> bool:
        return self.kind in PAGE_KINDS


def percentile_ms(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def summarise(samples: list[Sample], seconds: float, kind: str) -> Row:
    times = [s.seconds for s in samples if s.status] or [0.0]
    return Row(kind, len(samples), len(samples) / seconds, percentile_ms(times, 50), percentile_ms(times, 95),
               percentile_ms(times, 99), sum(s.outcome == REFUSED for s in samples),
               sum(s.outcome == ERROR for s in samples), sum(s.outcome == UNEXPECTED for s in samples))


def table_rows(samples: list[Sample], seconds: float) -> list[Row]:
    kinds: dict[str, list[Sample]] = {}
    for s in samples:
        kinds.setdefault(s.kind, []).append(s)
    rows = [summarise(kinds[k], seconds, k) for k in sorted(kinds, key=lambda k: -len(kinds[k]))]
    pages = [s for s in samples if s.kind in PAGE_KINDS]
    if pages:
        rows.append(summarise(pages, seconds, "all pages"))
    rows.append(summarise(samples, seconds, "all requests"))
    return rows


def print_rows(rows: list[Row]) -> None:
    print(f"{'kind':<28} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'refused':>8} "
          f"{'errors':>7} {'unexp.':>7}", flush=True)
    for r in rows:
        print(f"{r.kind:<28} {r.count:>7} {r.per_second:>7.1f} {r.p50:>8.0f} {r.p95:>8.0f} {r.p99:>8.0f} "
              f"{r.refused:>8} {r.errors:>7} {r.unexpected:>7}", flush=True)


def print_problems(samples: list[Sample], limit: int = 15, outcomes: tuple[str, ...] = (ERROR, UNEXPECTED)) -> None:
    notes: dict[str, int] = {}
    for s in samples:
        if s.outcome in outcomes:
            key = f"{s.kind}: {s.outcome} {s.status} {s.note}"
            notes[key] = notes.get(key, 0) + 1
    for key, n in sorted(notes.items(), key=lambda kv: -kv[1])[:limit]:
        print(f"  {n:5} × {key}", flush=True)


@dataclass
class Result:
    database: str
    clients: int
    seconds: float  # asked
    wall: float  # measured
    rows: list[Row]
    documents: DocumentCheck
    warm_up: list[Sample]
    ramp: list[Sample]  # the requests of the ramp before the measured window
    ramp_seconds: float
    api_paths: list[str]
    personas: dict[str, tuple[int, list[tuple[str, int]]]]  # persona: (clients, its mix)
    load_before: str
    load_after: str
    samples: list[Sample]
    think: float = 0.0  # mean pause between a client's actions


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(clients: int = CLIENTS, seconds: float = SECONDS, rebuild: bool = False, think: float = 0.0,
            ramp: float = RAMP) -> Result:
    database = prepare_database(rebuild)
    print(database, flush=True)
    targets = read_targets()
    with services() as web:
        targets.api_paths = find_api_paths(web.base)
        print(f"gunicorn at {web.base} ({GUNICORN_WORKERS} workers × {GUNICORN_THREADS} threads), "
              f"{CELERY_WORKERS} celery workers; API lists: {', '.join(targets.api_paths) or 'none'}", flush=True)
        warm = warm_up(web.base, targets)
        bad = [s for s in warm if s.outcome in (ERROR, UNEXPECTED)]
        print(f"warm-up: {len(warm)} requests, {len(bad)} errors or unexpected answers", flush=True)
        print_problems(warm, outcomes=(ERROR, UNEXPECTED, REFUSED))
        load_before = load_average()
        print(f"load average before: {load_before}; {clients} clients for {ramp:.0f} s of ramp then {seconds:.0f} s, "
              f"think time {think} s …", flush=True)
        workers, wall, ramped = drive(web.base, targets, clients, seconds, think, ramp)
        if ramped:
            print(f"ramp: {len(ramped)} requests ({sum(s.kind == 'login' for s in ramped) // 2} logins), "
                  f"{sum(s.outcome in (ERROR, UNEXPECTED) for s in ramped)} errors or unexpected answers", flush=True)
            print_problems(ramped)
        load_after = load_average()
        samples = [s for c in workers for s in c.samples]
        documents = [d for c in workers for d in c.documents]
        rows = table_rows(samples, wall)
        print_rows(rows)
        print_problems(samples)
        print(f"waiting for {len(documents)} documents …", flush=True)
        check = check_documents(documents)
        for line in web.errors():
            print(f"  gunicorn: {line}", flush=True)
    print(f"documents: {check}", flush=True)
    personas = {name: (sum(c.persona == name for c in workers), targets.mix(name)) for name in targets.shares()}
    return Result(database, clients, seconds, wall, rows, check, warm, ramped, ramp, targets.api_paths, personas,
                  load_before, load_after, samples, think)


PERSONA_LABELS = {"visitor": ("visitor", "visitors"), "council": ("council viewer", "council viewers"),
                  "finance": ("finance officer", "finance officers"), "planner": ("planner", "planners"),
                  "buyer": ("buyer", "buyers")}
ACTION_LABELS = {"pipeline": "pipeline", "item": "item page", "lot": "lot page", "feed": "feed", "api": "API list",
                 "council": "indicator dashboard or regional plan", "payments": "payments dashboard",
                 "kpis": "municipality KPI dashboard", "plan_edit": "plan item edit", "call_off": "call-off",
                 "document": "document request"}


# --- the report --------------------------------------------------------------------------------------------

def report_lines(r: Result) -> list[str]:
    cores = len(os.sched_getaffinity(0))
    busy = float(r.load_before.split(" / ")[0]) > cores
    overall = next(row for row in r.rows if row.kind == "all requests")
    pages = next((row for row in r.rows if row.kind == "all pages"), None)
    worst = max((row for row in r.rows if row.page), key=lambda row: row.p95, default=None)
    d = r.documents
    # errors in the ramp count too: only its latencies are left out
    errors = (sum(row.errors for row in r.rows if row.kind not in ("all pages", "all requests"))
              + sum(s.outcome == ERROR for s in r.ramp))
    unexpected = (sum(row.unexpected for row in r.rows if row.kind not in ("all pages", "all requests"))
                  + sum(s.outcome == UNEXPECTED for s in r.ramp))
    ramp_logins = sum(s.kind == "login" and s.outcome == OK for s in r.ramp) // 2  # a login is a GET and a POST
    ramp_note = (f" The clients ran their mix for {r.ramp_seconds:.0f} s before the measured window ({len(r.ramp):,} "
                 f"requests, {ramp_logins} logins among them), as in a system that has been running: logged in, the "
                 "page cache filled by earlier visitors; those requests are not in the table, but their errors "
                 "would be counted below." if r.ramp_seconds else "")
    met_errors = errors == 0 and unexpected == 0
    met_pages = pages is not None and pages.p95 < PAGE_TARGET_MS
    met_docs = d.requested == d.exactly_once and not d.duplicates

    def persona(name: str, count: int, mix: list[tuple[str, int]]) -> str:
        total = sum(w for _n, w in mix)
        label = PERSONA_LABELS[name][count != 1]
        return f"{count} {label} (" + ", ".join(f"{ACTION_LABELS[action]} {w * 100 / total:.0f} %"
                                                for action, w in mix) + ")"
    title = ("#### Saturation: no think time (the capacity)" if not r.think else
             f"#### Paced: {r.clients} users reading for {r.think:g} s on average between actions (the target)")
    return [
        title,
        "",
        f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {cores} CPU cores._ The production shape on "
        f"one machine: `gunicorn 'srpp:create_app()'` with {GUNICORN_WORKERS} gthread workers × "
        f"{GUNICORN_THREADS} threads, PostgreSQL, Redis (page cache, rate limits, broker) and {CELERY_WORKERS} "
        "`celery worker -c 1` processes, all on the same cores as the load generator (a Python process "
        f"with one thread per client). Data: {r.database}: the synthetic region at the default scale with "
        "the demo region next to it. "
        f"**{r.clients} clients for {r.seconds:.0f} s** (measured), "
        + ("without think time (each client sends its next request as soon as the last one is answered)"
           if not r.think else f"each pausing {r.think * 0.5:g}–{r.think * 1.5:g} s (uniform) after each action")
        + ", each a user with one account (logged "
        "in through the form on its first request) picking its next action by weight: "
        + "; ".join(persona(name, count, mix) for name, (count, mix) in r.personas.items())
        + "." + ramp_note + f" Load average (1/5/15 min) before {r.load_before}, after {r.load_after}."
        + (" Other processes were busy on the machine (a load average above the number of cores before the run): "
           "the latencies are pessimistic and vary between runs." if busy else ""),
        "",
        *report.table(
            ["request", "count", "per second", "p50 ms", "p95 ms", "p99 ms", "refused", "errors", "other statuses"],
            [(f"**{row.kind}**" if row.kind.startswith("all ") else row.kind, f"{row.count:,}",
              f"{row.per_second:.1f}", f"{row.p50:.0f}", f"{row.p95:.0f}", f"{row.p99:.0f}", str(row.refused),
              str(row.errors), str(row.unexpected)) for row in r.rows],
            right=[1, 2, 3, 4, 5, 6, 7, 8]),
        "",
        f"Throughput **{overall.per_second:.0f} requests/s** over {r.wall:.1f} s. "
        f"Targets: zero errors — **{'met' if met_errors else 'missed'}** ({errors} errors: 5xx, timeouts after "
        f"{TIMEOUT:.0f} s, connection errors; {unexpected} other unexpected statuses); p95 of the pages under "
        f"{PAGE_TARGET_MS} ms — **{'met' if met_pages else 'missed'}** "
        f"(all pages {pages.p95:.0f} ms" + (f", slowest kind {worst.kind} {worst.p95:.0f} ms" if worst else "")
        + "); every requested document produced exactly once — "
        f"**{'met' if met_docs else 'missed'}** ({d.requested} requested, {d.done} done, {d.exactly_once} with "
        f"exactly one file, {d.failed} failed, {d.waiting} still waiting, {d.duplicates} duplicated, {d.retried} "
        f"started more than once; the last "
        f"finished {d.seconds:.0f} s after the run).",
        "",
        "Pages are what people read (the 300 ms target): the pipeline, item and lot pages, the dashboards and "
        "the forms. Feeds, the API lists"
        + (f" ({', '.join(f'`{p}`' for p in r.api_paths)})" if r.api_paths else " (none answered: skipped)")
        + " and the POSTs (a plan item edit, a call-off, a document request; each after reading its form) are "
        "shown apart. *Refused* counts answers that refuse as they should (a call-off over a cap, an item "
        "edited meanwhile, a document with missing values); anonymous pages are served from the page cache "
        "until an edit changes the data they show.",
    ]


def settle(limit: float = 90.0) -> None:
    """Wait (at most ``limit`` s) until the one-minute load average is below the number of cores, so the
    second run does not start in the tail of the first (PostgreSQL writing back, workers finishing)."""
    cores, started = len(os.sched_getaffinity(0)), time.monotonic()
    while os.getloadavg()[0] >= cores and time.monotonic() - started < limit:
        time.sleep(5)


def run(clients: int = CLIENTS, seconds: float = SECONDS, rebuild: bool = False) -> list[str]:
    """Two runs: paced (people reading between actions: the latency they see, the target's run) and
    saturation (no think time: the capacity, and what happens beyond it)."""
    paced = report_lines(measure(clients, seconds, rebuild, THINK))
    settle()
    saturation = report_lines(measure(clients, seconds, False))
    return ["### Load (`bench/bench_load.py`)", "", *paced, "", *saturation]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--rebuild", action="store_true", help="build srpp_load again even if it is there")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a client's actions (s)")
    parser.add_argument("--ramp", type=float, default=RAMP, help="seconds before the measured window")
    parser.add_argument("--json", type=Path, help="also write every sample here (kind, start, seconds, status)")
    args = parser.parse_args(argv)
    result = measure(args.clients, args.seconds, args.rebuild, args.think, args.ramp)
    if args.json:
        args.json.write_text(json.dumps([s.__dict__ for s in result.samples]))
    for line in report_lines(result):
        print(line)


if __name__ == "__main__":
    main()
