"""Sending an IP: how many per second, on SQLite and on PostgreSQL, and what it costs next to a form step.

    python benchmarks/send.py [--quick]

- In-process: portal.domain.intake.submit() in a loop of N, one commit each, inside
  app.app_context(), on a fresh scratch database each (SQLite file, PostgreSQL database). This is
  the whole of sending: routing, priority, sealing every part to the CRIP's key, the follow-up
  code's key derivation (keyed BLAKE2b since revision 0005; argon2id before), the insert and the
  commit. Printed alongside: each follow-up KDF alone (the current one and the old argon2id).
- Send vs step: the public path of the form through the app in this process (Flask test client,
  production settings, CSRF on), and the CPU time of each request: rendering a form step (GET
  /etape/... with a draft) against sending (POST /envoyer: sealed and committed), measured in the
  same flows. Goal: a send costs at most 5 times a step.
- End to end: the public path of the form through HTTP (GET and POST of each step, check page,
  /envoyer, confirmation page: 19 requests per IP) on gunicorn -w 4 (production settings, limits in
  Redis), with 4 browsers at a time, for a smaller N; each confirmation is checked against the
  database.

The two databases are measured in alternating rounds (SQLite, PostgreSQL, SQLite, ...), and the
KDFs alone in the same rounds, so that a change of load on the machine hits all alike; wall-clock
and CPU time are both reported.
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

    def submit(self, n: int, deadline: float) -> tuple[int, float, float]:
        from portal.domain import intake
        from portal.extensions import db
        return self._submit(n, deadline, intake, db)

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


def kdf_alone(k: int, kdf: str) -> tuple[float, float]:
    import nacl.utils
    from portal.domain import codes, sealing
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(k):
        sealing.derive_keypair(codes.new_followup_code(), nacl.utils.random(sealing.KDF_SALT_BYTES), kdf)
    return time.perf_counter() - t0, time.process_time() - c0


class TimedBrowser(common.Browser):
    """A browser whose requests go to the app in this process (Flask test client), timing the CPU
    of each: `cpu[kind]` = [requests, seconds] for kind "step" (GET of a form step with a draft)
    and "send" (POST /envoyer)."""

    def __init__(self, app, cpu: dict):
        super().__init__(port=0)
        self.client = app.test_client(use_cookies=False)
        self.cpu = cpu

    def request(self, method: str, path: str, fields=None) -> common.Response:
        from urllib.parse import urlencode
        headers = {"Accept-Language": "fr", "User-Agent": "portal-benchmark"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        kind = ("step" if method == "GET" and "/etape/" in path else
                "send" if method == "POST" and path.endswith("/envoyer") else None)
        c0 = time.process_time()
        r = self.client.open(path, method=method, data=body, headers=headers)
        data = r.get_data()
        spent = time.process_time() - c0
        if kind:
            self.cpu[kind][0] += 1
            self.cpu[kind][1] += spent
        for raw in r.headers.getlist("Set-Cookie"):
            self._set_cookie(raw)
        return common.Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, data)


def send_vs_step(app, flows: int, cpu: dict, deadline: float) -> int:
    done = 0
    for _ in range(flows):
        if time.monotonic() > deadline:
            break
        ReportFlow(TimedBrowser(app, cpu), deadline=deadline).run()
        done += 1
    return done


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
            common.send_one(Browser(srv.port), lock, results, failures, stats, deadline=deadline)

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
        rounds, n, n_kdf, n_argon, n_flows, n_e2e = 3, 60, 3000, 6, 6, 16
    else:
        rounds, n, n_kdf, n_argon, n_flows, n_e2e = 8, 200, 20000, 40, 24, 80
    clients, workers = 4, 4
    deadline = time.monotonic() + (900 if args.quick else 2400)
    names = ("SQLite", "PostgreSQL")
    problems = []

    from portal.domain import sealing
    current_kdf = sealing.FOLLOWUP_KDF
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
        acc = {name: [0, 0.0, 0.0] for name in names}
        kdfs = {k: [0, 0.0, 0.0] for k in (current_kdf, sealing.FOLLOWUP_KDF_ARGON2ID)}
        cpu = {name: {"step": [0, 0.0], "send": [0, 0.0]} for name in names}
        flows = dict.fromkeys(names, 0)
        for r in range(rounds):
            for name in names:
                done, wall, c = apps[name].submit(max(1, n // rounds), deadline)
                a = acc[name]
                a[0] += done
                a[1] += wall
                a[2] += c
                flows[name] += send_vs_step(apps[name].app, max(1, n_flows // rounds), cpu[name], deadline)
            for kdf_name, k in ((current_kdf, n_kdf), (sealing.FOLLOWUP_KDF_ARGON2ID, n_argon)):
                k = max(1, k // rounds)
                wall, c = kdf_alone(k, kdf_name)
                kdfs[kdf_name][0] += k
                kdfs[kdf_name][1] += wall
                kdfs[kdf_name][2] += c
            log(f"  round {r + 1}/{rounds}: " + ", ".join(
                f"{name} {acc[name][0] / acc[name][1]:.1f} IPs/s, send/step CPU "
                f"{(cpu[name]['send'][1] / max(1, cpu[name]['send'][0])) / (cpu[name]['step'][1] / max(1, cpu[name]['step'][0])):.2f}"
                for name in names))
        for name in names:
            stored = apps[name].stored()
            if stored != apps[name].submitted + flows[name]:
                problems.append(f"{name} in-process: {apps[name].submitted + flows[name]} submitted, {stored} stored")
        kdf_us = {k: (v[2] / v[0] * 1e6) for k, v in kdfs.items()}
        ratio = {name: (cpu[name]["send"][1] / cpu[name]["send"][0]) / (cpu[name]["step"][1] / cpu[name]["step"][0])
                 for name in names}
        for name in names:
            if ratio[name] > 5:
                problems.append(f"{name}: a send costs {ratio[name]:.1f} times a form step (goal: at most 5)")

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

    rows, e2e_rows, ratio_rows, rate, e2e_rate = [], [], [], {}, {}
    for name in names:
        cnt, wall, c = acc[name]
        rate[name] = cnt / wall
        rows.append((name, cnt, f"**{cnt / wall:.1f}**", f"{wall / cnt * 1000:.1f}", f"{c / cnt * 1000:.1f}",
                     f"{kdf_us[current_kdf] / 1000 / (c / cnt * 1000) * 100:.1f} %"))
        steps, sends = cpu[name]["step"], cpu[name]["send"]
        ratio_rows.append((name, flows[name], steps[0], f"{steps[1] / steps[0] * 1000:.1f}", sends[0],
                           f"{sends[1] / sends[0] * 1000:.1f}", f"**{ratio[name]:.2f}**",
                           common.verdict(ratio[name] <= 5)))
        e = e2e[name]
        ok = len(e["refs"])
        e2e_rate[name] = ok / e["seconds"] if e["seconds"] else 0.0
        e2e_rows.append((name, ok, f"**{e2e_rate[name]:.2f}**", f"{e['seconds'] / max(1, ok) * clients * 1000:.0f}",
                         f"{e['cpu'] * 1000 / max(1, ok):.0f}", f"{e2e_rate[name] / rate[name]:.2f}",
                         f"{e['matched']}/{ok}"))
    body = "\n".join([
        f"In-process: `portal.domain.intake.submit()` + commit, inside `app.app_context()`, fresh scratch "
        f"database each, {rounds} alternating rounds. Follow-up key derivation, CPU per derivation (same "
        f"rounds): **{current_kdf} {kdf_us[current_kdf]:.1f} µs** (current), argon2id "
        f"{kdf_us[sealing.FOLLOWUP_KDF_ARGON2ID] / 1000:.0f} ms (follow-ups made before revision 0005: "
        f"{kdf_us[sealing.FOLLOWUP_KDF_ARGON2ID] / kdf_us[current_kdf]:.0f} times more).",
        "",
        common.table(["database", "IPs", "IPs/s", "ms per IP", "CPU ms per IP", "KDF share of the CPU"], rows),
        "",
        "Send vs form step: the public path of the form through the app in this process (Flask test client, "
        "production settings, CSRF on), CPU time of each request: rendering a form step (GET `/etape/...` "
        "with a draft) and sending (POST `/envoyer`: sealed to the CRIP, follow-up key derived, committed), "
        "in the same flows. Goal: a send at most 5 times a step.",
        "",
        common.table(["database", "flows", "step GETs", "CPU ms per step", "sends", "CPU ms per send",
                      "send / step", "goal ≤ 5"], ratio_rows),
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
    common.summary_line("send", f"send/step CPU SQLite {ratio['SQLite']:.2f}, PostgreSQL {ratio['PostgreSQL']:.2f} "
                                f"(goal ≤ 5); in-process SQLite {rate['SQLite']:.1f} IPs/s, PostgreSQL "
                                f"{rate['PostgreSQL']:.1f} IPs/s ({current_kdf} {kdf_us[current_kdf]:.0f} µs CPU "
                                f"each); end to end SQLite {e2e_rate['SQLite']:.2f}, PostgreSQL "
                                f"{e2e_rate['PostgreSQL']:.2f} IPs/s")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
