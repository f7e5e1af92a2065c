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

The two databases are measured in alternating rounds (SQLite, PostgreSQL, SQLite, ...), and the
argon2id derivation alone in the same rounds, so that a change of load on the machine hits all
alike; wall-clock and CPU time are both reported.
"""
from __future__ import annotations

import argparse
import contextlib
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


class InProcess:
    """One app on one database, ready to submit IPs in its app context."""

    def __init__(self, env: dict):
        from portal import create_app
        from portal.domain import keys
        from portal.extensions import db
        self.app = create_app({"RATELIMIT_STORAGE_URI": "memory://"}, env=env)
        with self.app.app_context():
            self.key = keys.active_key(db.session, "31")
            db.session.expunge(self.key)
        self.submitted = 0

    def submit(self, n: int, fast_kdf: bool, deadline: float) -> tuple[int, float, float]:
        import nacl.pwhash
        from portal.domain import intake, sealing
        from portal.extensions import db
        saved = sealing.KDF_OPSLIMIT, sealing.KDF_MEMLIMIT
        if fast_kdf:   # the tests' weakening, for comparison only
            sealing.KDF_OPSLIMIT, sealing.KDF_MEMLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN
        try:
            return self._submit(n, deadline, intake, db)
        finally:
            sealing.KDF_OPSLIMIT, sealing.KDF_MEMLIMIT = saved

    def _submit(self, n, deadline, intake, db):
        done = 0
        with self.app.app_context():
            session = db.session
            served = self.app.config["PROFILES"]
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                if time.monotonic() > deadline:
                    break
                intake.submit(session, answers=ANSWERS, files=[], received_by="31", served=served,
                              crip_key=self.key, secret_key=self.app.config["SECRET_KEY"],
                              submission_token=secrets.token_urlsafe(24), language="fr", probably_automated=False,
                              now=datetime.now(timezone.utc))
                session.commit()
                done += 1
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        self.submitted += done
        return done, wall, cpu

    def stored(self) -> int:
        from sqlalchemy import func, select
        from portal.extensions import db
        from portal.models import InformationPreoccupante
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(InformationPreoccupante))

    def close(self):
        self.app.extensions["portal_engine"].dispose()


def kdf_alone(k: int) -> tuple[float, float]:
    import nacl.utils
    from portal.domain import codes, sealing
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(k):
        sealing.derive_keypair(codes.new_followup_code(), nacl.utils.random(sealing.KDF_SALT_BYTES))
    return time.perf_counter() - t0, time.process_time() - c0


def e2e_round(srv: Gunicorn, n: int, clients: int, deadline: float) -> dict:
    results, failures, stats = [], [], Counter()
    lock = threading.Lock()
    started = [0]

    def client():
        while time.monotonic() < deadline:
            with lock:
                if started[0] >= n:
                    return
                started[0] += 1
            b = Browser(srv.port)
            try:
                ref = ReportFlow(b, deadline=deadline, stats=stats).run()
                with lock:
                    results.append(ref)
            except (common.Refused, common.Retryable) as exc:
                with lock:
                    failures.append(str(exc))
            finally:
                b.close()

    cpu0 = srv.cpu()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, deadline - time.monotonic() + 60))
    return {"refs": results, "failures": failures, "seconds": time.perf_counter() - t0, "cpu": srv.cpu() - cpu0}


def _count_ips(env: dict) -> tuple[int, set]:
    from portal.config import from_env
    from portal.extensions import make_engine
    from sqlalchemy import text
    engine = make_engine(from_env(env)["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            refs = {r for (r,) in conn.execute(text("SELECT reference FROM ips"))}
            return len(refs), refs
    finally:
        engine.dispose()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small N (about a minute)")
    args = ap.parse_args(argv)
    if args.quick:
        rounds, n, n_fast, n_kdf, n_e2e = 3, 30, 90, 9, 16
    else:
        rounds, n, n_fast, n_kdf, n_e2e = 8, 200, 480, 40, 80
    clients, workers = 4, 4
    deadline = time.monotonic() + (900 if args.quick else 2400)
    names = ("SQLite", "PostgreSQL")
    problems = []

    with contextlib.ExitStack() as stack:
        envs = {}
        for name in names:
            tmp = stack.enter_context(scratch_dir("bench-send"))
            url = stack.enter_context(scratch_pg("bench_send")) if name == "PostgreSQL" else sqlite_url(tmp)
            envs[name] = portal_env(tmp, url)
            prepare_portal_db(envs[name])

        # In-process, in alternating rounds --------------------------------------------------
        apps = {name: InProcess(envs[name]) for name in names}
        for a in apps.values():
            stack.callback(a.close)
        acc = {(name, mode): [0, 0.0, 0.0] for name in names for mode in ("real", "fast")}
        kdf = [0, 0.0, 0.0]
        for r in range(rounds):
            for name in names:
                for mode, total in (("real", n), ("fast", n_fast)):
                    done, wall, cpu = apps[name].submit(max(1, total // rounds), mode == "fast", deadline)
                    a = acc[(name, mode)]
                    a[0] += done
                    a[1] += wall
                    a[2] += cpu
            k = max(1, n_kdf // rounds)
            wall, cpu = kdf_alone(k)
            kdf[0] += k
            kdf[1] += wall
            kdf[2] += cpu
            log(f"  round {r + 1}/{rounds}: " + ", ".join(
                f"{name} {acc[(name, 'real')][0] / acc[(name, 'real')][1]:.1f} IPs/s" for name in names)
                + f", argon2id {kdf[1] / kdf[0] * 1000:.0f} ms")
        for name in names:
            stored = apps[name].stored()
            if stored != apps[name].submitted:
                problems.append(f"{name} in-process: {apps[name].submitted} submitted, {stored} stored")
        kdf_ms, kdf_cpu_ms = kdf[1] / kdf[0] * 1000, kdf[2] / kdf[0] * 1000

        # End to end, both servers up, alternating rounds --------------------------------------
        before = {name: _count_ips(envs[name])[1] for name in names}
        servers = {name: stack.enter_context(Gunicorn("wsgi:app", workers=workers, env=envs[name],
                                                      name=f"send-{name.lower()}"))
                   for name in names}
        e2e = {name: {"refs": [], "failures": [], "seconds": 0.0, "cpu": 0.0} for name in names}
        e2e_rounds = max(1, min(rounds, n_e2e // clients))
        for r in range(e2e_rounds):
            for name in names:
                res = e2e_round(servers[name], max(1, n_e2e // e2e_rounds), clients, deadline)
                for key in ("refs", "failures"):
                    e2e[name][key] += res[key]
                e2e[name]["seconds"] += res["seconds"]
                e2e[name]["cpu"] += res["cpu"]
            log(f"  end-to-end round {r + 1}/{e2e_rounds}: " + ", ".join(
                f"{name} {len(e2e[name]['refs']) / e2e[name]['seconds']:.2f} IPs/s" for name in names))
        command = servers["SQLite"].command
        for name in names:
            servers[name].stop()
            _n, refs_after = _count_ips(envs[name])
            new = refs_after - before[name]
            confirmed = {ref for ref, _code in e2e[name]["refs"]}
            e2e[name]["matched"] = len(confirmed & new)
            e2e[name]["stored"] = len(new)
            if e2e[name]["failures"]:
                problems.append(f"{name} end to end: {len(e2e[name]['failures'])} failed, first: "
                                f"{e2e[name]['failures'][0]}")
            if e2e[name]["matched"] != len(confirmed) or len(new) != len(confirmed):
                problems.append(f"{name} end to end: {len(confirmed)} confirmed, {e2e[name]['matched']} matched, "
                                f"{len(new)} stored")

    rows, e2e_rows, rate, e2e_rate = [], [], {}, {}
    for name in names:
        cnt, wall, cpu = acc[(name, "real")]
        fcnt, fwall, fcpu = acc[(name, "fast")]
        rate[name] = cnt / wall
        rows.append((name, cnt, f"**{cnt / wall:.1f}**", f"{wall / cnt * 1000:.1f}", f"{cpu / cnt * 1000:.1f}",
                     f"{kdf_cpu_ms / (cpu / cnt * 1000) * 100:.0f} %", f"{fcnt / fwall:.0f} ({fcpu / fcnt * 1000:.1f} ms CPU)"))
        e = e2e[name]
        ok = len(e["refs"])
        e2e_rate[name] = ok / e["seconds"] if e["seconds"] else 0.0
        e2e_rows.append((name, ok, f"**{e2e_rate[name]:.2f}**", f"{e['seconds'] / max(1, ok) * clients * 1000:.0f}",
                         f"{e['cpu'] * 1000 / max(1, ok):.0f}", f"{e2e_rate[name] / rate[name]:.2f}",
                         f"{e['matched']}/{ok}"))
    body = "\n".join([
        f"In-process: `portal.domain.intake.submit()` + commit, inside `app.app_context()`, fresh scratch "
        f"database each, {rounds} alternating rounds; production argon2id cost for the follow-up key: "
        f"**{kdf_ms:.0f} ms** wall, {kdf_cpu_ms:.0f} ms CPU per derivation (measured in the same rounds).",
        "",
        common.table(["database", "IPs", "IPs/s", "ms per IP", "CPU ms per IP", "argon2id share of the CPU",
                      "IPs/s with the test-only fast KDF"], rows),
        "",
        f"End to end: the public path of the form over HTTP (19 requests per IP: GET + POST of each step, "
        f"check page, /envoyer, confirmation), {clients} browsers at a time, {e2e_rounds} alternating rounds, "
        f"`{command}` (production settings, limits in Redis).",
        "",
        common.table(["database", "IPs confirmed", "IPs/s", "ms per IP per browser", "server CPU ms per IP",
                      "ratio to in-process", "confirmations found in the database"], e2e_rows),
        "",
        f"PostgreSQL / SQLite: in-process **{rate['PostgreSQL'] / rate['SQLite']:.2f}**, end to end "
        f"**{e2e_rate['PostgreSQL'] / e2e_rate['SQLite']:.2f}**.",
    ] + ([f"\nProblems: {'; '.join(problems)}"] if problems else []))
    log("\n" + body + "\n")
    common.write_section("send", "Sending an IP (send.py)", body)
    common.summary_line("send", f"in-process SQLite {rate['SQLite']:.1f} IPs/s, PostgreSQL {rate['PostgreSQL']:.1f} "
                                f"IPs/s (argon2id {kdf_cpu_ms:.0f} ms CPU each); end to end SQLite "
                                f"{e2e_rate['SQLite']:.2f}, PostgreSQL {e2e_rate['PostgreSQL']:.2f} IPs/s")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
