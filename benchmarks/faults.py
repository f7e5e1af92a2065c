"""Never lose a report: IPs sent through the form while gunicorn workers are being killed.

    python benchmarks/faults.py [--quick]       # --quick: 100 IPs, 10 clients
    python benchmarks/faults.py --postgres      # PostgreSQL stopped and started under 16 clients (below)
    python benchmarks/faults.py --redis         # Redis stopped 15 s under load: limits back in it within 10 s?

1 000 IPs are sent through the public path of the form (19 requests each) by 50 concurrent
browsers to `gunicorn -w 4` on PostgreSQL (production settings, limits in Redis), while a killer
thread sends SIGKILL to a random worker every ~2 s (gunicorn starts a new one; only workers that
have finished loading the app are picked, since a booting worker serves nothing, and only while at
least two are up: with one, a worker's boot time decides whether the server serves at all). A browser whose
connection breaks (or that gets a 502/503/504) sends the same request again: re-POSTing a step is
idempotent, and re-POSTing /envoyer shows the same confirmation.

At the end, in the database:
- every confirmation a browser received (reference + follow-up code) matches exactly one stored IP,
  and the stored hash of the follow-up code matches the code shown;
- no IP is stored twice (count by submission_token);
- no IP lacks its children (join ip_children) or its follow-up channel;
- every stored IP was confirmed to someone (an IP stored but never confirmed is one a person would
  send again).
The PostgreSQL server is shared: it is not restarted here.

With --postgres, another fault: a throw-away PostgreSQL cluster of this run only (initdb/pg_ctl on its
own port) is stopped and started again in cycles (up 4 s, down 3 s) while 16 browsers send IPs through
gunicorn with the shipped configuration (deploy/gunicorn.conf.py). Every answer is checked: no 500 at all;
every 503 is the page with 17, 112, 119 and the CRIP's number; every 503 to a POST that carried typed
values gives them all back. A browser resends the same request after a 503 (as the page invites it to):
every flow must complete, each IP stored exactly once and matching its confirmation.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import threading
import time
from collections import Counter

import common
from common import Browser, Gunicorn, log, portal_env, prepare_portal_db, scratch_dir, scratch_pg


def killer(srv: Gunicorn, stop: threading.Event, interval: float, kills: list, max_kills: int, boots: dict,
           min_ready: int):
    """Every ~interval s, SIGKILL a random worker among those that have loaded the app (a worker still
    booting serves nothing yet), as long as `min_ready` of them are up; note how long each took to boot."""
    try:
        _killer(srv, stop, interval, kills, max_kills, boots, min_ready)
    except Exception as exc:
        log(f"killer stopped: {type(exc).__name__}: {exc}")


def _killer(srv, stop, interval, kills, max_kills, boots, min_ready):
    rng = random.Random(7)
    next_kill = time.monotonic() + rng.uniform(interval * 0.75, interval * 1.25)
    while not stop.is_set() and len(kills) < max_kills:
        if stop.wait(0.1):
            return
        ready = srv.ready_workers()
        for pid in ready - boots.keys():
            started = common.process_start_time(pid)
            try:
                ready_at = (srv.ready_dir / str(pid)).stat().st_mtime
            except OSError:
                continue
            if started is not None:
                boots[pid] = max(0.0, ready_at - started)
        if time.monotonic() < next_kill or len(ready) < max(1, min_ready):
            continue
        next_kill = time.monotonic() + rng.uniform(interval * 0.75, interval * 1.25)
        pid = rng.choice(sorted(ready))
        try:
            os.kill(pid, signal.SIGKILL)
            kills.append((time.monotonic(), pid))
        except ProcessLookupError:
            pass


def publish(name: str, title: str, intro: str, rows: list, *, ok: bool, verdict: str, summary: str,
            column: str = "count", problems: str = "") -> int:
    """A measurement's section of RESULTS.md (what was done, its table, the verdict, the first
    problems if any) and its summary line, both also logged; the exit status (0 when `ok`)."""
    body = "\n".join([intro, "", common.table(["", column], rows), "", f"Verdict: **{verdict}**."]
                     + ([f"\n{problems}"] if problems else []))
    log("\n" + body + "\n")
    common.write_section(name, title, body)
    common.summary_line(name, summary)
    return 0 if ok else 1


def check(env: dict, confirmations: list) -> dict:
    from sqlalchemy import text
    from portal.config import from_env
    from portal.domain import codes
    from portal.extensions import make_engine

    secret = env["SECRET_KEY"]
    engine = make_engine(from_env(env)["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM ips")).scalar()
            by_ref = {}
            for ref, code_hash in conn.execute(text(
                    "SELECT i.reference, f.code_hash FROM ips i LEFT JOIN followups f ON f.ip_id = i.id")):
                by_ref.setdefault(ref, []).append(code_hash)
            duplicates = conn.execute(text(
                "SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) AS c FROM ips "
                "WHERE submission_token IS NOT NULL GROUP BY submission_token HAVING count(*) > 1) d")).scalar()
            orphans = conn.execute(text(
                "SELECT count(*) FROM ips i WHERE NOT EXISTS (SELECT 1 FROM ip_children c WHERE c.ip_id = i.id)")).scalar()
            child_mismatch = conn.execute(text(
                "SELECT count(*) FROM ips i WHERE i.child_count <> "
                "(SELECT count(*) FROM ip_children c WHERE c.ip_id = i.id)")).scalar()
            no_followup = conn.execute(text(
                "SELECT count(*) FROM ips i WHERE NOT EXISTS (SELECT 1 FROM followups f WHERE f.ip_id = i.id)")).scalar()
            no_category = conn.execute(text(
                "SELECT count(*) FROM ips i WHERE NOT EXISTS (SELECT 1 FROM ip_categories c WHERE c.ip_id = i.id)")).scalar()
            sent_drafts = conn.execute(text("SELECT count(*) FROM drafts WHERE ip_id IS NOT NULL")).scalar()
    finally:
        engine.dispose()
    matched, missing, wrong_code, ambiguous = 0, [], [], []
    refs = Counter(ref for ref, _code in confirmations)
    for ref, code in confirmations:
        rows = by_ref.get(ref, [])
        if not rows:
            missing.append(ref)
        elif len(rows) > 1:
            ambiguous.append(ref)
        elif rows[0] != codes.code_hash(secret, code):
            wrong_code.append(ref)
        else:
            matched += 1
    unconfirmed = [ref for ref in by_ref if ref not in refs]
    return {"stored": stored, "matched": matched, "missing": missing, "wrong_code": wrong_code,
            "ambiguous": ambiguous, "confirmed_twice": sum(c - 1 for c in refs.values() if c > 1),
            "duplicates": int(duplicates), "orphans": orphans, "child_mismatch": child_mismatch,
            "no_followup": no_followup, "no_category": no_category, "unconfirmed": len(unconfirmed),
            "sent_drafts": sent_drafts}


# --- PostgreSQL stopped and started (--postgres) ---------------------------------------------------

CRIP_NUMBER = "0 800 31 08 08"   # département 31's CRIP line (portal/departements/31.toml)


class CheckingBrowser(Browser):
    """A browser that checks every answer: 500s, 503 pages (numbers, typed values given back)."""

    def __init__(self, port, seen: Counter, lock, examples: list):
        super().__init__(port, timeout=60)
        self.seen, self.lock, self.examples = seen, lock, examples

    timeline: list = []   # (start, seconds, status or None), shared by every browser of the run

    def request(self, method, path, fields=None):
        t0 = time.monotonic()
        try:
            r = super().request(method, path, fields)
        except common.Retryable as exc:
            resp = getattr(exc, "response", None)
            self.timeline.append((t0, time.monotonic() - t0, resp.status if resp is not None else None))
            if resp is not None and resp.status == 503:
                self._check_503(method, path, fields, resp.text)
            elif resp is not None:
                self._note(f"HTTP {resp.status}")
            else:
                self._note("connection error")
            raise
        self.timeline.append((t0, time.monotonic() - t0, r.status))
        self._note(f"HTTP {r.status}")
        if r.status >= 500:
            with self.lock:
                self.examples.append(f"{method} {path}: HTTP {r.status}: {r.text[:200]!r}")
        return r

    def _note(self, key):
        with self.lock:
            self.seen[key] += 1

    def _check_503(self, method, path, fields, page):
        from markupsafe import escape
        numbers = all(n in page for n in ('href="tel:17"', 'href="tel:112"', 'href="tel:119"', CRIP_NUMBER))
        self._note("HTTP 503")
        self._note("503 with the numbers" if numbers else "503 WITHOUT the numbers")
        typed = [v for k, v in (fields or []) if k not in ("csrf_token", "website") and v]
        if method == "POST" and typed:
            kept = all(str(escape(v)) in page for v in typed)
            self._note("503 to a typed POST, every value given back" if kept else "503 to a typed POST, values LOST")
            if not kept:
                with self.lock:
                    self.examples.append(f"{path}: typed values missing from the 503 page")


def cycler(pg, stop: threading.Event, up: float, down: float, cycles: list, max_cycles: int):
    while not stop.is_set() and len(cycles) < max_cycles:
        if stop.wait(up):
            return
        t0 = time.monotonic()
        pg.stop("fast")
        stop.wait(down)
        pg.start()
        cycles.append(time.monotonic() - t0)


def main_postgres(args):
    from tests.throwaway import ThrowawayPostgres
    if not ThrowawayPostgres.available():
        log("PostgreSQL server binaries (initdb, pg_ctl) not found: nothing measured")
        return 1
    n_cycles = args.cycles or (4 if args.quick else 6)
    clients = args.clients or 16
    up, down, freeze = 4.0, 3.0, 15.0
    CheckingBrowser.timeline = []
    seen, examples, confirmations, failures, stats = Counter(), [], [], [], Counter()
    lock = threading.Lock()
    with scratch_dir("bench-pgfaults") as tmp, ThrowawayPostgres() as pg:
        url = pg.create_database("portal").replace("postgresql+psycopg://", "postgresql://")
        env = portal_env(tmp, url)
        prepare_portal_db(env)
        cycles = []
        with Gunicorn("wsgi:app", workers=3, env=env, name="portal-pgfaults", boot_timeout=120,
                      config=common.ROOT / "deploy" / "gunicorn.conf.py") as srv:
            stop = threading.Event()
            deadline = time.monotonic() + n_cycles * (up + down + 2) + 90

            def client():
                while not stop.is_set() and time.monotonic() < deadline:
                    common.send_one(CheckingBrowser(srv.port, seen, lock, examples), lock, confirmations, failures, stats,
                             retries=1000, patience=120, deadline=deadline)

            log(f"portal on :{srv.port} (shipped gunicorn config), throw-away PostgreSQL on :{pg.port}; "
                f"{clients} browsers; {n_cycles} cycles of {up:.0f} s up, {down:.0f} s stopped")
            t0 = time.perf_counter()
            threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
            for t in threads:
                t.start()
            cycler(pg, threading.Event(), up, down, cycles, n_cycles)
            time.sleep(up)
            # then frozen (SIGSTOP: connections stay open, nothing answers) for longer than the timeouts
            freeze_at = time.monotonic()
            pg.freeze()
            time.sleep(freeze)
            pg.thaw()
            freeze_end = time.monotonic()
            time.sleep(up)
            stop.set()            # browsers finish the flow they are in
            for t in threads:
                t.join(120)
            elapsed = time.perf_counter() - t0
            command = srv.command
            worker_timeouts = srv.log_text().count("WORKER TIMEOUT")
        result = check(env, confirmations)
    frozen = [(d, st) for start, d, st in CheckingBrowser.timeline if freeze_at <= start < freeze_end]
    frozen_503 = sum(1 for _d, st in frozen if st == 503)
    frozen_max = max((d for d, _st in frozen), default=0.0)
    with_numbers, without = seen["503 with the numbers"], seen["503 WITHOUT the numbers"]
    posts_kept, posts_lost = (seen["503 to a typed POST, every value given back"],
                              seen["503 to a typed POST, values LOST"])
    n500 = sum(v for k, v in seen.items() if k.startswith("HTTP 5") and k != "HTTP 503")
    ok = (n500 == 0 and without == 0 and posts_lost == 0 and not failures and result["matched"] == len(confirmations)
          and result["stored"] == len(confirmations) and result["duplicates"] == 0 and result["orphans"] == 0
          and result["unconfirmed"] == 0 and not result["missing"] and not result["wrong_code"]
          and worker_timeouts == 0 and frozen_max < 15)
    statuses = ", ".join(f"{k[5:]} × {v}" for k, v in sorted(seen.items()) if k.startswith("HTTP "))
    rows = [
        ("stop/start cycles (PostgreSQL stopped with `pg_ctl stop -m fast`)",
         f"{len(cycles)} (down {statistics.mean(cycles):.1f} s on average)" if cycles else "0"),
        (f"then frozen (SIGSTOP) for {freeze:.0f} s: requests started meanwhile / answered 503 / longest wait",
         f"{len(frozen)} / {frozen_503} / {frozen_max:.1f} s"),
        ("gunicorn worker timeouts (workers killed mid-request)", worker_timeouts),
        ("requests (statuses)", f"{stats['requests']} ({statuses})"),
        ("connection errors", seen["connection error"]),
        ("HTTP 500 or other 5xx than 503", n500),
        ("503 pages with 17, 112, 119 and the CRIP number", with_numbers),
        ("503 pages without them", without),
        ("503 to a POST with typed values: all values given back / some lost", f"{posts_kept} / {posts_lost}"),
        ("flows completed (confirmation shown) / given up", f"{len(confirmations)} / {len(failures)}"),
        ("stored IPs / matching their confirmation exactly once", f"{result['stored']} / {result['matched']}"),
        ("duplicates / orphans / stored but never confirmed",
         f"{result['duplicates']} / {result['orphans']} / {result['unconfirmed']}"),
        ("elapsed", f"{elapsed:.0f} s"),
    ]
    problems = examples[:3] + failures[:3]
    return publish(
        "pgfaults", "PostgreSQL stopped and started under load (faults.py --postgres)",
        f"`{command}` on a throw-away PostgreSQL cluster (initdb/pg_ctl, own port) stopped and started in cycles "
        f"({up:.0f} s up, {down:.0f} s stopped), then frozen for {freeze:.0f} s, while {clients} browsers send IPs through the public path of the "
        "form; a browser sends the same request again after a 503 (the page gives back what it carried).",
        rows, ok=ok,
        verdict=('0 × 500; every failure a 503 with the numbers; typed values given back; every flow completed, each IP stored once'
                 if ok else 'BROKEN'),
        problems=f"First problems: {'; '.join(problems)}" if problems else "",
        summary=(f"{len(cycles)} PostgreSQL stop/start cycles, {clients} browsers: {n500} × 500, "
                 f"{with_numbers} × 503 with numbers, {without} without, {posts_lost} typed POSTs lost, "
                 f"{len(confirmations)} flows completed, {result['stored']} stored: {'OK' if ok else 'BROKEN'}"))


# --- Redis stopped and started (--redis) ----------------------------------------------------------

def main_redis(args):
    """A throw-away redis-server stopped for 15 s under load, then started again: how long until the
    workers count the form's own limit and the generic one in Redis again (goal: within 10 s)."""
    import redis as redis_lib
    from tests.throwaway import ThrowawayRedis
    if not ThrowawayRedis.available():
        log("redis-server not found: nothing measured")
        return 1
    outage, clients = 15.0, 8
    seen, sent_steps = Counter(), [0]
    lock = threading.Lock()
    with scratch_dir("bench-redisfaults") as tmp, scratch_pg("bench_redisfaults") as url, ThrowawayRedis() as rs:
        env = portal_env(tmp, url, RATELIMIT_STORAGE_URI=rs.url)
        prepare_portal_db(env)
        with Gunicorn("wsgi:app", workers=3, env=env, name="portal-redisfaults", boot_timeout=120,
                      config=common.ROOT / "deploy" / "gunicorn.conf.py") as srv:
            stop = threading.Event()

            def client():
                b = Browser(srv.port, timeout=30)
                try:
                    token = b.request("GET", "/signaler/").csrf()
                    b.request("POST", "/signaler/commencer", [("csrf_token", token)])
                    while not stop.is_set():
                        r = b.request("POST", "/signaler/etape/qui", [("csrf_token", token), ("source_type", "public")])
                        with lock:
                            seen[f"step HTTP {r.status}"] += 1
                            sent_steps[0] += 1
                        r = b.request("GET", "/crip/connexion")   # under the generic limit, in Redis
                        with lock:
                            seen[f"page HTTP {r.status}"] += 1
                except (common.Retryable, common.Refused) as exc:
                    with lock:
                        seen[f"error: {exc}"] += 1
                finally:
                    b.close()

            def keys():
                try:
                    conn = redis_lib.Redis.from_url(rs.url, socket_timeout=1)
                    names = [k.decode() for k in conn.keys("*")]
                    step = [k for k in names if "/step/" in k]
                    value = sum(int(conn.get(k) or 0) for k in step)
                    conn.close()
                    return bool(step), any("/step/" not in k for k in names), value
                except redis_lib.RedisError:
                    return False, False, 0

            threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
            for t in threads:
                t.start()
            time.sleep(4)
            before = keys()
            rs.stop()
            log(f"redis stopped for {outage:.0f} s under {clients} clients")
            time.sleep(outage)
            with lock:
                during = dict(seen)
            rs.start()
            back = time.monotonic()
            first_keys = None
            all_workers = None
            while time.monotonic() - back < 40 and all_workers is None:
                step_key, generic_key, c0 = keys()
                if first_keys is None and step_key and generic_key:
                    first_keys = time.monotonic() - back
                with lock:
                    s0 = sent_steps[0]
                time.sleep(1.0)
                _a, _b, c1 = keys()
                with lock:
                    s1 = sent_steps[0]
                # every step posted in this second was counted in Redis: no worker counts in memory any more
                if first_keys is not None and s1 > s0 and c1 - c0 >= (s1 - s0) * 0.97:
                    all_workers = time.monotonic() - back
            stop.set()
            for t in threads:
                t.join(30)
            command = srv.command
    refused = sum(v for k, v in seen.items() if not k.endswith(("HTTP 302", "HTTP 200")))
    ok = before[:2] == (True, True) and first_keys is not None and all_workers is not None and all_workers <= 10 \
        and refused == 0
    rows = [
        ("requests (statuses)", ", ".join(f"{k} × {v}" for k, v in sorted(seen.items()))),
        ("of which sent before Redis was started again (4 s up, then 15 s stopped)", ", ".join(f"{k} × {v}" for k, v in sorted(during.items()))),
        ("form limit and generic limit both counted in Redis again after",
         f"{first_keys:.1f} s" if first_keys is not None else "never (40 s)"),
        ("every step of every worker counted in Redis again after",
         f"{all_workers:.1f} s" if all_workers is not None else "not within 40 s"),
    ]
    return publish(
        "redisfaults", "Redis stopped and started under load (faults.py --redis)",
        f"`{command}` with a throw-away redis-server stopped for {outage:.0f} s while {clients} clients post a form "
        "step and load the back office's sign-in page in a loop (the generic limit: information pages count "
        "theirs in each worker's memory), then started again (empty). Measured: the time until the form's "
        "own limit and the generic limit have keys in Redis again, and until every step posted in a second is "
        "counted there (no worker still counting in its memory). Goal: within 10 s; no request refused.",
        rows, column="value", ok=ok, verdict="met" if ok else "missed",
        summary=(f"Redis back after a {outage:.0f} s outage: keys after "
                 f"{first_keys if first_keys is not None else float('nan'):.1f} s, all workers after "
                 f"{all_workers if all_workers is not None else float('nan'):.1f} s, {refused} refused: "
                 f"{'met' if ok else 'missed'}"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="100 IPs, 10 clients")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between two kills (default 2)")
    ap.add_argument("--min-ready", type=int, default=2,
                    help="kill only while at least this many workers have loaded the app (default 2; 1 lets "
                         "the killer take down the last one, and slow boots then stall the server)")
    ap.add_argument("--ips", type=int, help="override the number of IPs")
    ap.add_argument("--clients", type=int, help="override the number of concurrent browsers")
    ap.add_argument("--postgres", action="store_true",
                    help="stop and start a throw-away PostgreSQL in cycles instead of killing workers")
    ap.add_argument("--cycles", type=int, help="with --postgres: stop/start cycles (default 6; 4 with --quick)")
    ap.add_argument("--redis", action="store_true",
                    help="stop a throw-away Redis for 15 s under load and time the limits' return to it")
    args = ap.parse_args(argv)
    if args.postgres:
        return main_postgres(args)
    if args.redis:
        return main_redis(args)
    n, clients, budget = (100, 10, 420.0) if args.quick else (1000, 50, 1800.0)
    n, clients = args.ips or n, args.clients or clients
    workers = 4

    with scratch_dir("bench-faults") as tmp, scratch_pg("bench_faults") as url:
        env = portal_env(tmp, url)
        prepare_portal_db(env)
        confirmations, failures, stats, kills, boots = [], [], Counter(), [], {}
        lock = threading.Lock()
        next_job = [0]
        with Gunicorn("wsgi:app", workers=workers, env=env, name="portal-faults", boot_timeout=120) as srv:
            initial_workers = set(srv.worker_pids())
            deadline = time.monotonic() + budget
            stop = threading.Event()

            def client():
                while time.monotonic() < deadline:
                    with lock:
                        if next_job[0] >= n:
                            return
                        next_job[0] += 1
                    common.send_one(Browser(srv.port, timeout=300), lock, confirmations, failures, stats,
                             retries=20, patience=600, deadline=deadline)

            log(f"portal on :{srv.port} ({workers} workers); {n} IPs by {clients} browsers; "
                f"SIGKILL to a random worker every ~{args.interval:.1f} s while {args.min_ready}+ are up")
            k = threading.Thread(target=killer, args=(srv, stop, args.interval, kills, 100_000, boots, args.min_ready),
                                 daemon=True)
            t0 = time.perf_counter()
            threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
            try:
                for t in threads:
                    t.start()
                k.start()
                last = time.monotonic()
                while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 90:
                    time.sleep(0.5)
                    if time.monotonic() - last > 15:
                        last = time.monotonic()
                        with lock:
                            causes = ", ".join(f"{c[7:]} {v}" for c, v in stats.most_common(4) if c.startswith("retry: "))
                        log(f"  {len(confirmations)} confirmed, {len(failures)} failed, {len(kills)} kills, "
                            f"{len(srv.ready_workers())}/{workers} workers up; retries in finished flows: "
                            f"{stats['retries']} ({causes or 'none'})")
            finally:
                stop.set()
                k.join(10)
            for t in threads:
                t.join(5)
            elapsed = time.perf_counter() - t0
            restarted = len({int(p.name) for p in srv.ready_dir.iterdir() if p.name.isdigit()} - initial_workers)
            command = srv.command
        result = check(env, confirmations)

    ok = (len(confirmations) == n and result["matched"] == n and not result["missing"] and not result["wrong_code"]
          and not result["ambiguous"] and result["duplicates"] == 0 and result["orphans"] == 0
          and result["child_mismatch"] == 0 and result["no_followup"] == 0 and result["unconfirmed"] == 0
          and result["stored"] == n)
    retry_kinds = ", ".join(f"{k[7:]} {v}" for k, v in stats.most_common() if k.startswith("retry: ")) or "none"
    rows = [
        ("IPs to send", n),
        ("sent (flows finished)", len(confirmations) + len(failures)),
        ("confirmed (reference + code shown)", len(confirmations)),
        ("failed flows (gave up)", len(failures)),
        ("stored IPs", result["stored"]),
        ("confirmations matching exactly one stored IP, code hash included", result["matched"]),
        ("confirmations not found in the database", len(result["missing"])),
        ("confirmations whose code does not match", len(result["wrong_code"])),
        ("stored but never confirmed", result["unconfirmed"]),
        ("duplicates (same submission_token)", result["duplicates"]),
        ("orphans (no ip_children row)", result["orphans"]),
        ("child_count ≠ ip_children rows", result["child_mismatch"]),
        ("without follow-up channel", result["no_followup"]),
        ("worker kills (SIGKILL)", f"{len(kills)} (one every {elapsed / max(1, len(kills)):.1f} s on average)"),
        ("workers restarted by gunicorn (booted)", restarted),
        ("worker boot time (fork to app loaded), median / max",
         f"{statistics.median(boots.values()):.1f} s / {max(boots.values()):.1f} s" if boots else "n/a"),
        ("requests sent / retried", f"{stats['requests']} / {stats['retries']}"),
        ("retries by cause", retry_kinds),
        ("elapsed", f"{elapsed:.0f} s ({len(confirmations) / elapsed:.2f} IPs/s under faults)"),
    ]
    return publish(
        "faults", "Worker kills while sending (faults.py)",
        f"`{command}` on a scratch PostgreSQL database (production settings, limits in Redis); {clients} browsers "
        f"send {n} IPs through the form (19 requests each, each request retried on a broken connection or "
        f"502/503/504) while a thread SIGKILLs a random worker every ~{args.interval:.0f} s (one that has loaded the app, "
        f"and only while at least {args.min_ready} have). Each request waits up to 300 s for its answer and is sent "
        f"again for up to 600 s.",
        rows, ok=ok, verdict="no report lost, none stored twice, none incomplete" if ok else "INVARIANT BROKEN",
        problems=f"First failures: {'; '.join(failures[:5])}" if failures else "",
        summary=(f"{n} to send, {len(confirmations)} confirmed, {result['stored']} stored, "
                 f"{result['matched']} matched, {result['duplicates']} duplicates, "
                 f"{result['orphans']} orphans, {len(kills)} worker kills: {'OK' if ok else 'BROKEN'}"))


if __name__ == "__main__":
    sys.exit(main())
