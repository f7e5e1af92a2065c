"""Helpers shared by the benchmarks: gunicorn servers, scratch databases, a load client, a form
driver, and RESULTS.md.

Everything here talks to 127.0.0.1 only (PostgreSQL :5432, Redis :6379 and the servers it starts).
Every loop is bounded in count and in time; every server started is stopped (process group) when
its `with` block ends, whatever happens inside.
"""
from __future__ import annotations

import sys as _sys

# benchmarks/queue.py shares its name with the standard library's `queue`, and a script run as
# `python benchmarks/X.py` has benchmarks/ first on sys.path: load the standard module first, so
# that every later `import queue` (logging.handlers, concurrent.futures, redis...) gets it.
if "queue" not in _sys.modules:
    _here = __import__("os").path.dirname(__import__("os").path.abspath(__file__))
    _saved = list(_sys.path)
    _sys.path[:] = [p for p in _sys.path if __import__("os").path.abspath(p or ".") != _here]
    try:
        import queue as _stdlib_queue  # noqa: F401
    finally:
        _sys.path[:] = _saved

import contextlib
import datetime as _dt
import fcntl
import gzip
import http.client
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
PYTHON = sys.executable
HOST = "127.0.0.1"
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_DSN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=test connect_timeout=5"
REDIS_URL = f"redis://{HOST}:6379/13"   # a database of its own; keys expire by themselves
READY_CONF = BENCH / "gunicorn_ready.py"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _terminate(signum, _frame):
    """SIGTERM (run_all.py's timeout) unwinds like Ctrl-C: every `with` block stops its server and
    drops its scratch database on the way out."""
    raise SystemExit(128 + signum)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _terminate)


def log(*args):
    print(*args, flush=True)


# --- Machine -----------------------------------------------------------------------------------

def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPU (nproc {_nproc()}), Python {platform.python_version()}, load average at start {load}"


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return str(os.cpu_count())


def pg_version() -> str:
    try:
        import psycopg
        with psycopg.connect(PG_ADMIN_DSN) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def catalogs_compiled() -> bool:
    return any((ROOT / "portal" / "translations").glob("*/LC_MESSAGES/messages.mo"))


# --- Ports and processes -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Direct children of a process, read from /proc (no psutil)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _pgrp(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2:].split()[2])


_TICK = os.sysconf("SC_CLK_TCK")


def process_start_time(pid: int) -> float | None:
    """When a process started, as a Unix time (from /proc; 1/CLK_TCK precision)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open("/proc/stat") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    return btime + int(stat[stat.rfind(")") + 2:].split()[19]) / _TICK


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes (and of their waited-for children)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15])   # utime stime cutime cstime
    return total / _TICK


class Gunicorn:
    """`python -m gunicorn -w N -b 127.0.0.1:PORT --access-logfile /dev/null APP`, in its own
    process group; a config file that only adds a post_worker_init hook tells when each worker has
    loaded the app (it writes a file per worker pid, nothing else)."""

    def __init__(self, app: str, *, workers: int = 2, env: dict | None = None, cwd: Path = ROOT,
                 name: str = "server", timeout: int = 30, ready_path: str = "/", boot_timeout: float = 90,
                 config: Path | None = None):
        self.app, self.workers, self.cwd, self.name = app, workers, cwd, name
        self.timeout, self.ready_path, self.boot_timeout = timeout, ready_path, boot_timeout
        self.config = config   # a gunicorn config file (e.g. deploy/gunicorn.conf.py) read before READY_CONF
        self.env = dict(os.environ if env is None else env)
        self.proc = None
        self.port = None
        self._tmp = None

    # lifecycle -----------------------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self._tmp = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        self.ready_dir = self._tmp / "ready"
        self.ready_dir.mkdir()
        self.port = free_port()
        env = dict(self.env, BENCH_READY_DIR=str(self.ready_dir), PYTHONUNBUFFERED="1")
        conf, conf_name = READY_CONF, f"benchmarks/{READY_CONF.name}"
        if self.config is not None:   # the shipped configuration, plus the readiness hook
            conf = self._tmp / "combined.conf.py"
            conf.write_text(f"exec(open({str(self.config)!r}).read())\nexec(open({str(READY_CONF)!r}).read())\n")
            conf_name = f"{os.path.relpath(self.config, ROOT)} (+ benchmarks/{READY_CONF.name})"
        cmd = [PYTHON, "-m", "gunicorn", "-w", str(self.workers), "-b", f"{HOST}:{self.port}",
               "--access-logfile", "/dev/null", "--timeout", str(self.timeout), "-c", str(conf), self.app]
        self.command = (f"python -m gunicorn -w {self.workers} -b {HOST}:PORT --access-logfile /dev/null "
                        f"--timeout {self.timeout} -c {conf_name} {self.app}")
        self.logfile = open(self._tmp / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=str(self.cwd), env=env, stdout=self.logfile,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def ready_workers(self) -> set[int]:
        """Workers alive that have loaded the app (empty once the server is stopped)."""
        alive = set(self.worker_pids())
        try:
            return {int(p.name) for p in self.ready_dir.iterdir() if p.name.isdigit()} & alive
        except (OSError, AttributeError):
            return set()

    def wait_ready(self):
        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.proc.returncode}\n{self.log_tail()}")
            if len(self.ready_workers()) >= self.workers:
                try:
                    status = http_get(self.port, self.ready_path, timeout=10)[0]
                    if status < 500:
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not ready after {self.boot_timeout:.0f} s\n{self.log_tail()}")

    def stop(self):
        if self.proc is not None:
            workers = self.worker_pids()
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
            # A worker that outlived its master: only those we saw, still in our process group.
            for pid in workers:
                if _pgrp(pid) == self.proc.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        if getattr(self, "logfile", None):
            self.logfile.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # introspection ---------------------------------------------------------------------------
    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc else []

    def cpu(self) -> float:
        return cpu_seconds([self.proc.pid, *self.worker_pids()])

    def log_tail(self, n: int = 30) -> str:
        try:
            self.logfile.flush()
            lines = (self._tmp / "server.log").read_text(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except (OSError, AttributeError, TypeError):
            return ""

    def log_text(self) -> str:
        try:
            self.logfile.flush()
            return (self._tmp / "server.log").read_text(errors="replace")
        except (OSError, AttributeError, TypeError):
            return ""


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 30):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


# --- Portal environment and databases -------------------------------------------------------------

HIGH_LIMITS = {
    "RATELIMIT_DEFAULT": "1000000 per minute",
    "RATELIMIT_SEND": "1000000 per hour",
    "RATELIMIT_FORM_STEP": "1000000 per minute",
    "RATELIMIT_UPLOAD": "1000000 per hour",
}


def complete_profile_dir(instance: Path) -> Path:
    """A copy of the shipped Haute-Garonne profile with the facts production requires filled in
    with benchmark placeholders (the demo profile leaves them empty, and production refuses that)."""
    directory = Path(instance) / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "portal" / "departements" / "31.toml").read_text(encoding="utf-8")
    for key, value in (("director", "Benchmark director"), ("host", "Benchmark host"),
                       ("dpo_contact", "dpo@benchmark.invalid"), ("contact", "a11y@benchmark.invalid"),
                       ("plan_url", "https://benchmark.invalid/plan")):
        text = re.sub(rf'(?m)^{key} = ""', f'{key} = "{value}"', text)
    (directory / "31.toml").write_text(text, encoding="utf-8")
    return directory


def portal_env(instance: Path, database_url: str, **extra) -> dict:
    """The environment of a production-like portal process (Redis limits, one département)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PORTAL_", "RATELIMIT_", "EVALUATION_", "ATTACHMENT_", "MAIL_"))
           and k not in ("DATABASE_URL", "SECRET_KEY", "FORM_MIN_SECONDS", "TRUSTED_PROXIES", "MAX_CONTENT_LENGTH")}
    env.update({
        # Production behaviour (HTTPS: HSTS and secure cookies; a required SECRET_KEY, given below) without
        # PORTAL_ENV=production, which also refuses the demo profiles (publication director, DPO... "to be
        # provided"): nothing else depends on it.
        "PORTAL_ENV": "development",
        "PORTAL_HTTPS": "true",
        "SECRET_KEY": secrets.token_hex(32),
        "PORTAL_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "PORTAL_DEPARTEMENTS": "31",
        "PORTAL_PROFILE_DIR": str(complete_profile_dir(instance)),
        "FORM_MIN_SECONDS": "0",
    })
    env.update(HIGH_LIMITS)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def prepare_portal_db(env: dict) -> None:
    """Migrate the database of `env` to head and give each served département an active CRIP key."""
    from portal import create_app
    from portal.domain import keys
    from portal.extensions import db
    from portal.migrate import upgrade

    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"}, env=env)
    try:
        with app.app_context():
            upgrade(db.engine)
            for code in app.config["PROFILES"]:
                if keys.active_key(db.session, code) is None:
                    keys.create_crip_key(db.session, code)
            db.session.commit()
    finally:
        app.extensions["portal_engine"].dispose()


@contextlib.contextmanager
def scratch_pg(prefix: str = "bench"):
    """A fresh PostgreSQL database; yields its postgresql:// URL; dropped at the end."""
    import psycopg
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            for _ in range(10):
                try:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                    break
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.5)


@contextlib.contextmanager
def scratch_dir(prefix: str = "bench"):
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'portal.db'}"


# --- Load client ---------------------------------------------------------------------------------

def percentile(values, p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def load(port: int, paths, *, threads: int = 4, duration: float = 5.0, max_requests: int = 200_000,
         headers: dict | None = None, server: Gunicorn | None = None, warmup: float = 0.5) -> dict:
    """GET `paths` round-robin from `threads` threads (http.client; the connection is reused when
    the server keeps it open, reopened when it closes it) for `duration` seconds or `max_requests`.

    Returns requests/s, latency percentiles (ms), status counts, errors, and with `server` the CPU
    time its processes used per request (ms), which does not depend on the client's own speed."""
    paths = list(paths)
    headers = dict(headers or {})
    if warmup > 0:
        _load_threads(port, paths, threads, warmup, max_requests, headers)
    cpu0 = server.cpu() if server else None
    t0 = time.perf_counter()
    per = _load_threads(port, paths, threads, duration, max_requests, headers)
    elapsed = time.perf_counter() - t0
    cpu1 = server.cpu() if server else None
    lat = [x for p in per for x in p["lat"]]
    statuses = Counter()
    for p in per:
        statuses.update(p["status"])
    n = len(lat)
    out = {
        "requests": n, "seconds": elapsed, "rps": n / elapsed if elapsed else 0.0,
        "p50": percentile(lat, 50) * 1000, "p95": percentile(lat, 95) * 1000, "p99": percentile(lat, 99) * 1000,
        "statuses": dict(statuses), "errors": sum(p["errors"] for p in per),
        "bytes": sum(p["bytes"] for p in per),
    }
    if server:
        out["server_cpu_s"] = cpu1 - cpu0
        out["cpu_ms_per_req"] = (cpu1 - cpu0) * 1000 / n if n else float("nan")
    return out


def _load_threads(port, paths, threads, duration, max_requests, headers):
    stop_at = time.perf_counter() + duration
    per_thread = max(1, max_requests // threads)
    results = [None] * threads

    def run(i):
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        lat, status, errors, nbytes = [], Counter(), 0, 0
        k = i
        try:
            while len(lat) + errors < per_thread and time.perf_counter() < stop_at and errors < 1000:
                path = paths[k % len(paths)]
                k += 1
                t = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    r = conn.getresponse()
                    body = r.read()
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    continue
                lat.append(time.perf_counter() - t)
                status[r.status] += 1
                nbytes += len(body)
        finally:
            conn.close()
            results[i] = {"lat": lat, "status": status, "errors": errors, "bytes": nbytes}

    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(duration + 60)
    return [r or {"lat": [], "status": Counter(), "errors": 0, "bytes": 0} for r in results]


def gzip_size(data: bytes, level: int = 6) -> int:
    return len(gzip.compress(data, compresslevel=level, mtime=0))


# --- A browser for the IP form ----------------------------------------------------------------------

class Retryable(Exception):
    """The connection failed (or the server answered 502/503/504): the same request may be sent again."""


class Refused(Exception):
    """The server answered something the flow did not expect."""


_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]*)"')
REF_RE = re.compile(r'<strong class="num" dir="ltr">(IP-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>')
CODE_RE = re.compile(r'<p class="code-box"[^>]*>([^<]+)</p>')


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str | None:
        loc = self.headers.get("location")
        if loc is None:
            return None
        parts = urlsplit(loc)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def csrf(self) -> str:
        m = _CSRF.search(self.text)
        if not m:
            raise Refused(f"no csrf_token on a {self.status} page")
        return _VALUE.search(m.group(0)).group(1)


class Browser:
    """One person's browser: a cookie jar and a connection (reopened when the server closes it)."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.conn = None
        self.requests = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, fields=None) -> Response:
        headers = {"Accept-Language": "fr", "User-Agent": "portal-benchmark"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        self.requests += 1
        try:
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Retryable(f"{method} {path}: {type(exc).__name__}") from exc
        for raw in r.headers.get_all("Set-Cookie") or []:
            self._set_cookie(raw)
        if r.will_close:
            self.close()
        resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        if r.status in (502, 503, 504):
            err = Retryable(f"{method} {path}: HTTP {r.status}")
            err.response = resp   # what the server said (the fault benchmark checks its 503 pages)
            raise err
        return resp

    def _set_cookie(self, raw: str):
        first, *attrs = raw.split(";")
        name, _, value = first.strip().partition("=")
        attrs = [a.strip().lower() for a in attrs]
        if any(a == "max-age=0" or a.startswith("expires=thu, 01 jan 1970") for a in attrs):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


# The answers of a public sender, as in tests/report/helpers.py.
CHILD = [("first_name", "Léa"), ("last_name", "Martin"), ("age", "8"), ("sex", "f"),
         ("school", "École Jules Ferry, CE2"), ("postcode", "31000"), ("address", "12 rue des Lilas"),
         ("lives_with", "mother")]
ADULTS = [("adult1_name", "Sandrine Martin"), ("adult1_relation", "mother"), ("adult1_contact", "06 11 22 33 44"),
          ("others", "Un petit frère")]
CONCERN = [("categories", "neglect"), ("categories", "psychological"),
           ("account", "Elle arrive seule à l'école, affamée."), ("since", "weeks"), ("danger_now", "no")]
SENDER = [("anonymous", "no"), ("name", "Jeanne Voisine"), ("relation", "neighbour"), ("phone", "0611223344"),
          ("email", ""), ("contact_language", "fr"), ("wants_feedback", "y")]


class ReportFlow:
    """Sends one IP through the public path of the form, as a browser does: GET each page, POST it,
    follow the redirect. Each request is retried on a connection error (or 502/503/504) up to
    `retries` times, since re-POSTing a step is idempotent and re-POSTing /envoyer shows the same
    confirmation."""

    def __init__(self, browser: Browser, *, prefix: str = "/signaler", retries: int = 0,
                 patience: float = 0.0, deadline: float | None = None, stats: Counter | None = None):
        self.b, self.prefix, self.retries, self.patience = browser, prefix, retries, patience
        self.deadline = deadline
        self.stats = stats if stats is not None else Counter()

    def _call(self, method, path, fields=None, expect=(200,)) -> Response:
        """One request; on a Retryable failure, sent again (up to `retries` times, and for at most
        `patience` seconds when it is set), with a growing pause (0.1 s to 2 s)."""
        attempt = 0
        first = time.monotonic()
        while True:
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise Refused("deadline reached")
            try:
                r = self.b.request(method, path, fields)
            except Retryable as exc:
                attempt += 1
                self.stats["retries"] += 1
                self.stats["retry: " + str(exc).rsplit(": ", 1)[-1]] += 1
                if attempt > self.retries and (not self.patience or time.monotonic() - first > self.patience):
                    raise
                time.sleep(min(2.0, 0.1 * attempt) + random.random() * 0.1)
                continue
            if r.status not in expect:
                raise Refused(f"{method} {path}: HTTP {r.status}, expected {expect}")
            return r

    def _step(self, path, fields) -> str:
        token = self._call("GET", path).csrf()
        r = self._call("POST", path, [("csrf_token", token), *fields], expect=(302, 303))
        return r.location

    def run(self) -> tuple[str, str]:
        p = self.prefix
        token = self._call("GET", f"{p}/").csrf()
        nxt = self._call("POST", f"{p}/commencer", [("csrf_token", token)], expect=(302, 303)).location
        nxt = self._step(nxt, [("source_type", "public")])               # -> enfant?n=0
        nxt = self._step(nxt, CHILD)                                     # -> enfants
        nxt = self._step(nxt, [("action", "continue")])                  # -> adultes
        nxt = self._step(nxt, ADULTS)                                    # -> inquietude
        nxt = self._step(nxt, CONCERN)                                   # -> vous
        nxt = self._step(nxt, SENDER)                                    # -> documents
        nxt = self._step(nxt, [("action", "continue")])                  # -> verifier
        if not nxt.startswith(f"{p}/verifier"):
            raise Refused(f"expected the check page, got {nxt}")
        token = self._call("GET", nxt).csrf()
        loc = self._call("POST", f"{p}/envoyer", [("csrf_token", token), ("confirm", "y"), ("website", "")],
                         expect=(302, 303)).location
        if not loc.startswith(f"{p}/confirmation"):
            raise Refused(f"sending led to {loc}")
        page = self._call("GET", loc).text
        ref, code = REF_RE.search(page), CODE_RE.search(page)
        if not (ref and code):
            raise Refused("no reference or code on the confirmation page")
        return ref.group(1), "".join(code.group(1).split())


def send_one(browser: Browser, lock: threading.Lock, confirmations: list, failures: list, stats: Counter, **flow):
    """One report sent through `browser` (ReportFlow with `flow`'s options), then the browser closed:
    its reference goes to `confirmations` or why it gave up to `failures`; its retries and requests
    are added to `stats`."""
    local = Counter()
    try:
        ref = ReportFlow(browser, stats=local, **flow).run()
        with lock:
            confirmations.append(ref)
    except (Refused, Retryable) as exc:
        with lock:
            failures.append(str(exc))
    finally:
        browser.close()
        with lock:
            stats.update(local)
            stats["requests"] += browser.requests


# --- RESULTS.md --------------------------------------------------------------------------------------

ORDER = ["summary", "pages", "render", "ratelimit", "send", "uploads", "queue", "faults", "pgfaults", "redisfaults", "slowclients"]
HEADER = ("# Benchmark results\n\n"
          "Written by the scripts in `benchmarks/` (each replaces its own section; "
          "`python benchmarks/run_all.py --quick` runs them all). Ratios compare numbers measured "
          "in the same run on the same machine; absolute numbers depend on the machine and on what "
          "else ran on it (see the load average).\n")


def command_line() -> str:
    rel = os.path.relpath(sys.argv[0], ROOT) if sys.argv and sys.argv[0] else "?"
    return " ".join(["python", rel, *sys.argv[1:]])


def write_section(name: str, title: str, body: str, *, extra_meta: str = "") -> None:
    """Replace (or add) the section `name` of benchmarks/RESULTS.md."""
    when = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    meta = f"_{when} · {machine()}{' · ' + extra_meta if extra_meta else ''} · command: `{command_line()}`_"
    block = f"<!-- BEGIN {name} -->\n## {title}\n\n{meta}\n\n{body.rstrip()}\n<!-- END {name} -->\n"
    lock_path = Path(tempfile.gettempdir()) / "portal-benchmarks-results.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            text = RESULTS.read_text() if RESULTS.exists() else HEADER
            sections = dict(re.findall(r"<!-- BEGIN (\w+) -->\n(.*?)<!-- END \1 -->\n", text, flags=re.S))
            sections = {k: f"<!-- BEGIN {k} -->\n{v}<!-- END {k} -->\n" for k, v in sections.items()}
            sections[name] = block
            names = [n for n in ORDER if n in sections] + sorted(n for n in sections if n not in ORDER)
            RESULTS.write_text(HEADER + "\n" + "\n".join(sections[n] for n in names))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def table(headers, rows) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def summary_line(name: str, text: str) -> None:
    """The one line run_all.py collects."""
    log(f"SUMMARY {name}: {text}")
