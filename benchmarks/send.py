"""Sending an IP: how many per second, on SQLite and on PostgreSQL.

    python benchmarks/send.py [--quick]

- In-process: portal.domain.intake.submit() in a loop of N, one commit each, inside
  app.app_context(), on a fresh scratch database each (SQLite file, PostgreSQL database). This is
  the whole of sending: routing, priority, sealing every part to the CRIP's key, the follow-up
  code's argon2id key derivation (production cost), the insert and the commit.
  Printed alongside: the argon2id derivation alone, and the same loop with the test-only fast KDF,
  to show where the time goes.
- End to end: the public path of the form through HTTP (GET and POST of each step, check page,
  /envoyer, confirmation page: 19 requests per IP) on gunicorn -w 4 (production settings, limits in
  Redis), with 4 browsers at a time, for a smaller N; each confirmation is checked against the
  database.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import common
from common import Browser, Gunicorn, ReportFlow, log, portal_env, prepare_portal_db, scratch_dir, scratch_pg, sqlite_url

ANSWERS = {
    "source_type": "public", "sector": "",
    "children": [{"first_name": "Léa", "last_name": "Martin", "birth_date": None, "age": 8, "age_estimate": "",
                  "sex": "f", "school": "École Jules Ferry, CE2", "postcode": "31000", "commune": "31555",
                  "postcode_unknown": False, "address": "12 rue des Lilas", "lives_with": "mother",
                  "commune_name": "Toulouse"}],
    "adults": {"adult1_name": "Sandrine Martin", "adult1_relation": "mother", "adult1_contact": "06 11 22 33 44",
               "adult2_name": "", "adult2_relation": "", "adult2_contact": "", "others": "Un petit frère"},
    "concern": {"categories": ["neglect", "psychological"], "account": "Elle arrive seule à l'école, affamée. " * 8,
                "since": "weeks", "danger_now": "no"},
    "sender": {"anonymous": "no", "name": "Jeanne Voisine", "relation": "neighbour", "phone": "0611223344",
               "email": "", "contact_language": "fr", "wants_feedback": True},
}


def in_process(env: dict, n: int, fast_kdf: bool = False) -> dict:
    from portal import create_app
    from portal.domain import intake, keys
    from portal.extensions import db
    from sqlalchemy import func, select
    from portal.models import InformationPreoccupante

    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"}, env=env)
    try:
        with app.app_context():
            session = db.session
            key = keys.active_key(session, "31")
            served = app.config["PROFILES"]
            before = session.scalar(select(func.count()).select_from(InformationPreoccupante))
            deadlines = {"evaluation_days": 92, "evaluation_days_under_2": 30, "evaluation_days_urgent": 15}
            t0, c0 = time.perf_counter(), time.process_time()
            deadline = time.monotonic() + 600
            done = 0
            for _ in range(n):
                if time.monotonic() > deadline:
                    break
                intake.submit(session, answers=ANSWERS, files=[], received_by="31", served=served, crip_key=key,
                              secret_key=app.config["SECRET_KEY"], submission_token=secrets.token_urlsafe(24),
                              language="fr", probably_automated=False, now=datetime.now(timezone.utc),
                              deadlines=deadlines, fast_kdf=fast_kdf)
                session.commit()
                done += 1
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            stored = session.scalar(select(func.count()).select_from(InformationPreoccupante)) - before
        return {"n": done, "stored": stored, "ips": done / wall, "ms": wall * 1000 / done, "cpu_ms": cpu * 1000 / done}
    finally:
        app.extensions["portal_engine"].dispose()


def kdf_alone(k: int) -> float:
    import nacl.utils
    from portal.domain import codes, sealing
    t0 = time.perf_counter()
    for _ in range(k):
        sealing.derive_keypair(codes.new_followup_code(), nacl.utils.random(sealing.KDF_SALT_BYTES))
    return (time.perf_counter() - t0) * 1000 / k


def end_to_end(env: dict, n: int, clients: int, workers: int) -> dict:
    from portal.extensions import make_engine
    from portal.config import from_env
    from sqlalchemy import text

    stored_before = _count_ips(env)
    results, failures, stats = [], [], Counter()
    lock = threading.Lock()
    started = [0]
    with Gunicorn("wsgi:app", workers=workers, env=env, name="portal-send") as srv:
        deadline = time.monotonic() + 600

        def client():
            b = Browser(srv.port)
            while time.monotonic() < deadline:
                with lock:
                    if started[0] >= n:
                        return
                    started[0] += 1
                try:
                    ref = ReportFlow(b, deadline=deadline, stats=stats).run()
                    with lock:
                        results.append(ref)
                except (common.Refused, common.Retryable) as exc:
                    with lock:
                        failures.append(str(exc))
                b.close()
                b.cookies.clear()
            b.close()

        requests0 = 0
        cpu0 = srv.cpu()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(660)
        elapsed = time.perf_counter() - t0
        cpu = srv.cpu() - cpu0
        command = srv.command
    engine = make_engine(from_env(env)["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            refs = [r for r, _c in results]
            stored = conn.execute(text("SELECT count(*) FROM ips")).scalar() - stored_before
            matched = sum(conn.execute(text("SELECT count(*) FROM ips WHERE reference = :r"), {"r": r}).scalar() == 1
                          for r in refs)
    finally:
        engine.dispose()
    ok = len(results)
    return {"n": ok, "failures": failures, "stored": stored, "matched": matched, "seconds": elapsed,
            "ips": ok / elapsed if elapsed else 0, "cpu_ms_per_ip": cpu * 1000 / ok if ok else float("nan"),
            "requests_per_ip": 19, "command": command, "retries": stats["retries"]}


def _count_ips(env: dict) -> int:
    from portal.config import from_env
    from portal.extensions import make_engine
    from sqlalchemy import text
    engine = make_engine(from_env(env)["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM ips")).scalar()
    finally:
        engine.dispose()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small N (about 40 s)")
    args = ap.parse_args(argv)
    n, n_fast, n_e2e, clients, workers = (30, 100, 16, 4, 4) if args.quick else (200, 500, 80, 4, 4)

    rows, e2e_rows, problems = [], [], []
    kdf_ms = kdf_alone(5 if args.quick else 20)
    log(f"argon2id derivation of a follow-up key pair alone: {kdf_ms:.1f} ms")
    measured = {}
    for db_name in ("SQLite", "PostgreSQL"):
        with scratch_dir("bench-send") as tmp, \
                (scratch_pg("bench_send") if db_name == "PostgreSQL" else _null(sqlite_url(tmp))) as url:
            env = portal_env(tmp, url)
            prepare_portal_db(env)
            real = in_process(env, n)
            fast = in_process(env, n_fast, fast_kdf=True)
            log(f"  {db_name:10s} in-process: {real['ips']:7.1f} IPs/s ({real['ms']:.1f} ms, CPU {real['cpu_ms']:.1f} ms "
                f"per IP); with the test-only fast KDF {fast['ips']:7.1f} IPs/s")
            for res, label in ((real, "real"), (fast, "fast")):
                if res["stored"] != res["n"]:
                    problems.append(f"{db_name} in-process ({label}): {res['n']} submitted, {res['stored']} stored")
            e2e = end_to_end(env, n_e2e, clients, workers)
            log(f"  {db_name:10s} end to end: {e2e['ips']:7.2f} IPs/s ({e2e['n']} sent in {e2e['seconds']:.1f} s, "
                f"server CPU {e2e['cpu_ms_per_ip']:.0f} ms per IP), {len(e2e['failures'])} failures")
            if e2e["failures"]:
                problems.append(f"{db_name} end to end: {len(e2e['failures'])} failed, first: {e2e['failures'][0]}")
            if e2e["matched"] != e2e["n"] or e2e["stored"] != e2e["n"]:
                problems.append(f"{db_name} end to end: {e2e['n']} confirmed, {e2e['matched']} matched, "
                                f"{e2e['stored']} stored")
            measured[db_name] = (real, fast, e2e)
            rows.append((db_name, real["n"], f"{real['ips']:.1f}", f"{real['ms']:.1f}", f"{real['cpu_ms']:.1f}",
                         f"{kdf_ms / real['ms'] * 100:.0f} %", f"{fast['ips']:.0f}"))
            e2e_rows.append((db_name, e2e["n"], f"{e2e['ips']:.2f}", f"{e2e['seconds'] / max(1, e2e['n']) * clients * 1000:.0f}",
                             f"{e2e['cpu_ms_per_ip']:.0f}", f"{e2e['ips'] / real['ips']:.2f}",
                             f"{e2e['matched']}/{e2e['n']}"))
    sq, pg = measured["SQLite"], measured["PostgreSQL"]
    body = "\n".join([
        f"In-process: `portal.domain.intake.submit()` + commit, N in a loop, inside `app.app_context()`, "
        f"fresh scratch database each; production argon2id cost for the follow-up key "
        f"(alone: **{kdf_ms:.1f} ms** per derivation).",
        "",
        common.table(["database", "N", "IPs/s", "ms per IP", "CPU ms per IP", "share of the argon2id derivation",
                      f"IPs/s with the test-only fast KDF (N={n_fast})"], rows),
        "",
        f"End to end: the public path of the form over HTTP (19 requests per IP: GET + POST of each step, "
        f"check page, /envoyer, confirmation), {clients} browsers at a time, `{sq[2]['command']}` "
        f"(production settings, limits in Redis).",
        "",
        common.table(["database", "IPs confirmed", "IPs/s", "ms per IP per browser", "server CPU ms per IP",
                      "ratio to in-process", "confirmations found in the database"], e2e_rows),
        "",
        f"PostgreSQL / SQLite: in-process **{pg[0]['ips'] / sq[0]['ips']:.2f}**, end to end "
        f"**{pg[2]['ips'] / sq[2]['ips']:.2f}**.",
    ] + ([f"\nProblems: {'; '.join(problems)}"] if problems else []))
    log("\n" + body + "\n")
    common.write_section("send", "Sending an IP (send.py)", body)
    common.summary_line("send", f"in-process SQLite {sq[0]['ips']:.1f} IPs/s, PostgreSQL {pg[0]['ips']:.1f} IPs/s "
                                f"(argon2id {kdf_ms:.0f} ms each); end to end SQLite {sq[2]['ips']:.2f}, "
                                f"PostgreSQL {pg[2]['ips']:.2f} IPs/s")
    return 0 if not problems else 1


class _null:
    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
