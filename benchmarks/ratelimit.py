"""The cost of refusing a rate-limited request (429), as a ratio to rendering the home page.

    python benchmarks/ratelimit.py [--quick]

A flood of requests must cost the site much less to refuse than to serve. Two portals with the
same settings except RATELIMIT_DEFAULT: "1000000 per minute" (every request of the home page is
rendered) and "1 per hour" (the first request passes, every later one is a 429). Measured twice:

- in-process, through the Flask test client (limits in Redis, then in memory): wall-clock and
  CPU time of the process per request;
- on gunicorn (2 sync workers, limits in Redis, production settings): requests/s and the CPU time
  of the gunicorn processes per request.

Goal: a rejection costs at most 1/3 of a page (CPU per request, gunicorn).

Note: the home page is an information page, whose generic ceiling each worker counts in its own memory
(portal/ratelimit.py, count_reads_in_memory): "limits in Redis" below is the setting of the other pages.
"""
from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import statistics
import sys
import time

import common
from common import Gunicorn, REDIS_URL, load, log, portal_env, prepare_portal_db, scratch_dir, sqlite_url

GOAL = 1 / 3
LIMITED = "1 per hour"
OPEN = "1000000 per minute"


VARIANTS = {
    # name: (RATELIMIT_DEFAULT, what the child changes after create_app, for a what-if only)
    "page": (OPEN, None),
    "429": (LIMITED, None),
    "429 without the breach log line": (LIMITED, "nolog"),
    "429 without the log line, plain-text body": (LIMITED, "plain"),
}


def child(variant: str, storage: str, n: int, env: dict) -> dict:
    """Runs in a fresh process: Flask-Limiter's Limiter is a module-level object in the portal and
    keeps the default limits of the first app initialised in a process, so one app per process."""
    import logging
    from portal import create_app
    limit, tweak = VARIANTS[variant]
    app = create_app(None, env=dict(env, RATELIMIT_DEFAULT=limit, RATELIMIT_STORAGE_URI=storage,
                                    SECRET_KEY=secrets.token_hex(32)))
    if tweak in ("nolog", "plain"):
        logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    if tweak == "plain":
        app.register_error_handler(429, lambda e: app.response_class("Too many requests\n", 429,
                                                                       mimetype="text/plain"))
    try:
        client = app.test_client()
        for _ in range(min(30, n)):
            client.get("/")
        statuses, size = {}, 0
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            r = client.get("/")
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            size = len(r.data)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {"statuses": statuses, "wall_ms": wall * 1000 / n, "cpu_ms": cpu * 1000 / n, "bytes": size}
    finally:
        app.extensions["portal_engine"].dispose()


def in_process(env: dict, variant: str, storage: str, n: int) -> dict:
    payload = json.dumps({"variant": variant, "storage": storage, "n": n, "env": env})
    proc = subprocess.run([sys.executable, __file__, "--child"], input=payload, capture_output=True,
                          text=True, timeout=300, cwd=str(common.ROOT))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[len("RESULT "):])
            res["statuses"] = {int(k): v for k, v in res["statuses"].items()}
            return res
    raise RuntimeError(f"in-process child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short run (about 20 s)")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        spec = json.loads(sys.stdin.read())
        print("RESULT " + json.dumps(child(spec["variant"], spec["storage"], spec["n"], spec["env"])), flush=True)
        return 0
    n_inproc, rounds, seconds = (200, 1, 3.0) if args.quick else (1000, 3, 5.0)

    with scratch_dir("bench-ratelimit") as tmp:
        env = portal_env(tmp, sqlite_url(tmp))
        prepare_portal_db(env)

        # The baseline is a *rendered* home page: the page cache is off for both sides.
        env = dict(env, PAGE_CACHE="0")
        # In-process -------------------------------------------------------------------------
        inproc = {}
        for storage_name, storage in (("redis", REDIS_URL), ("memory", "memory://")):
            for _r in range(rounds):
                for variant in VARIANTS:
                    res = in_process(env, variant, storage, n_inproc)
                    inproc.setdefault((storage_name, variant), []).append(res)
                    log(f"  in-process {storage_name:6s} {variant:42s} {res['wall_ms']:.3f} ms wall, "
                        f"{res['cpu_ms']:.3f} ms CPU per request, {res['bytes']} bytes, statuses {res['statuses']}")

        # gunicorn ---------------------------------------------------------------------------
        env_open = dict(env, RATELIMIT_DEFAULT=OPEN)
        env_limited = dict(env, RATELIMIT_DEFAULT=LIMITED, SECRET_KEY=secrets.token_hex(32))
        runs = {"page": [], "429": []}
        with Gunicorn("wsgi:app", workers=2, env=env_open, name="portal-open") as open_srv, \
                Gunicorn("wsgi:app", workers=2, env=env_limited, name="portal-limited") as lim_srv:
            common.http_get(lim_srv.port, "/")          # spends the one allowed request
            for r in range(rounds):
                for kind, srv in (("page", open_srv), ("429", lim_srv)):
                    res = load(srv.port, ["/"], threads=args.threads, duration=seconds, server=srv, warmup=0.5)
                    runs[kind].append(res)
                    log(f"  round {r + 1} gunicorn {kind:4s} {res['rps']:8.1f} req/s  p50 {res['p50']:6.1f} ms  "
                        f"server CPU {res['cpu_ms_per_req']:.2f} ms/req  {res['bytes'] // max(1, res['requests'])} "
                        f"bytes/resp  {res['statuses']}")
            command = open_srv.command

    def med(rows, key):
        return statistics.median(x[key] for x in rows)

    problems = []
    rows = []
    for storage_name in ("redis", "memory"):
        page = inproc[(storage_name, "page")]
        if any(set(x["statuses"]) != {200} for x in page):
            problems.append(f"in-process {storage_name}: page statuses {[x['statuses'] for x in page]}")
        pw, pc = med(page, "wall_ms"), med(page, "cpu_ms")
        for variant in list(VARIANTS)[1:]:
            rej = inproc[(storage_name, variant)]
            if any(set(x["statuses"]) != {429} for x in rej):
                problems.append(f"in-process {storage_name} {variant}: statuses {[x['statuses'] for x in rej]}")
            rw, rc = med(rej, "wall_ms"), med(rej, "cpu_ms")
            label = f"in-process, limits in {storage_name}" + ("" if variant == "429" else f" — what-if: {variant}")
            rows.append((label, f"{pw:.2f} / {pc:.2f}", f"{rw:.2f} / {rc:.2f}",
                         f"{rw / pw:.2f}", f"{rc / pc:.2f}", f"{page[-1]['bytes']} / {rej[-1]['bytes']}"))
    for kind in ("page", "429"):
        want = 200 if kind == "page" else 429
        for x in runs[kind]:
            other = sum(c for s, c in x["statuses"].items() if s != want) + x["errors"]
            if other:
                problems.append(f"gunicorn {kind}: {other} responses not {want}: {x['statuses']}")
    p_rps, r_rps = med(runs["page"], "rps"), med(runs["429"], "rps")
    p_cpu, r_cpu = med(runs["page"], "cpu_ms_per_req"), med(runs["429"], "cpu_ms_per_req")
    ratio = r_cpu / p_cpu
    p_bytes = runs["page"][-1]["bytes"] // max(1, runs["page"][-1]["requests"])
    r_bytes = runs["429"][-1]["bytes"] // max(1, runs["429"][-1]["requests"])
    rows.append(("gunicorn -w 2, limits in Redis: server CPU ms/req", f"{p_cpu:.2f}", f"{r_cpu:.2f}", "",
                 f"**{ratio:.2f}**", f"{p_bytes} / {r_bytes}"))
    rows.append(("gunicorn -w 2, limits in Redis: req/s", f"{p_rps:.0f}", f"{r_rps:.0f}",
                 f"{p_rps / r_rps:.2f} (page req/s ÷ 429 req/s)", "", ""))
    ok = ratio <= GOAL
    body = "\n".join([
        f"RATELIMIT_DEFAULT \"{OPEN}\" (home page rendered) against \"{LIMITED}\" (every request after "
        f"the first is a 429), all else equal. In-process: {n_inproc} requests through the Flask test client "
        f"(wall / CPU ms per request). gunicorn: `{command}`, {rounds} round(s) × {seconds:.0f} s, "
        f"{args.threads} client threads, medians.",
        "",
        common.table(["measure", "home page (200)", "rejection (429)", "wall ratio 429/page",
                      "CPU ratio 429/page", "bytes 200 / 429"], rows),
        "",
        f"A rejection costs **{ratio:.2f}** × a home page in server CPU (goal ≤ {GOAL:.2f}: {common.verdict(ok)}).",
    ] + ([f"\nProblems: {'; '.join(problems)}"] if problems else []))
    log("\n" + body + "\n")
    common.write_section("ratelimit", "Rate-limit rejections (ratelimit.py)", body)
    common.summary_line("ratelimit", f"429 costs {ratio:.2f}x a home page in server CPU (goal <= 0.33: "
                                     f"{'met' if ok else 'missed'})")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
