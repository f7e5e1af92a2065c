"""The CRIP queue's first page at 1 000 and at 1 000 000 IPs, on PostgreSQL.

    python benchmarks/queue.py [--quick]        # --quick: 1 000 and 100 000 IPs

A scratch database, migrated to head, is filled with one INSERT ... SELECT FROM generate_series:
every NOT NULL column of `ips` gets a plausible coded value, with the same shape at every size:
70 % of the IPs for the Haute-Garonne (31), the rest for 38, 39 and 44; received over five years;
urgency 1 for 3 %, 2 for 17 %, 3 for the rest; the IPs of the last 60 days open (new, analysis,
more_info, evaluation), 1 % of older ones still in evaluation, the others decided; `sealed` is a
short bytea (--sealed-bytes); crip_key_id references the département's real crip_keys row.
Then VACUUM ANALYZE (one scratch database per size), and portal.domain.queue.page() is timed (a new
session each run, as a request would; alternating run by run between the two sizes) for:

- agent:         [IP.received_by == "31"]                                   (goal p95 < 50 ms at 1M)
- open:          [IP.received_by == "31", IP.status.in_(workflow.OPEN)]     (goal p95 < 50 ms at 1M)
- view default:  + IP.probably_automated.is_(False), which the back office's queue adds unless
                 automated=all
- deep page:     agent's conditions after the cursor of the IP in the middle of the queue
- and the two other queries the back office's queue view runs on every display (counts by status,
  "new since your last visit").

Goal: p95(large) / p95(1 000) < 3 for the first page.
"""
from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time

import common
from common import log, scratch_pg

GOAL_MS = 50.0
GOAL_RATIO = 3.0

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

FILL = """
INSERT INTO ips (reference, submission_token, received_by, routing_status, departement, territory, channel,
                 source_type, source_sector, language, contact_language, anonymous, wants_feedback, danger_now,
                 child_count, youngest_age_band, urgency, urgency_reasons, probably_automated, status,
                 received_at, analysis_due, evaluation_due, crip_key_id, sealed, decided_at)
SELECT 'IP-' || {code4a} || '-' || {code4b},
       'bench-' || v.g,
       v.dep, 'routed', v.dep,
       (ARRAY['toulouse', 'muret', 'saint-gaudens'])[1 + v.h2 % 3],
       CASE WHEN v.h2 % 20 = 0 THEN 'phone' ELSE 'online' END,
       v.src,
       CASE WHEN v.src = 'professional' THEN (ARRAY['school', 'health', 'social', 'childcare'])[1 + v.h2 % 4] END,
       CASE WHEN v.h2 % 25 = 0 THEN 'ar' ELSE 'fr' END, 'fr',
       v.src <> 'professional' AND v.h2 % 4 = 0,
       v.src = 'professional' OR v.h2 % 3 = 0,
       v.urgency = 1,
       1 + (v.h2 % 7 = 0)::int,
       (ARRAY['0-1', '2-5', '6-10', '11-14', '15-17', 'unknown'])[1 + v.h2 % 6],
       v.urgency,
       CASE v.urgency WHEN 1 THEN 'danger_now' WHEN 2 THEN 'sexual' ELSE '' END,
       v.h2 % 500 = 0,
       v.status,
       v.at,
       (v.at + interval '1 day')::date,
       (v.at + CASE v.urgency WHEN 1 THEN interval '15 days' ELSE interval '92 days' END)::date,
       k.id,
       decode(repeat(md5(v.g::text), %(md5s)s), 'hex'),
       CASE WHEN v.status IN ('new', 'analysis', 'more_info', 'evaluation') THEN NULL
            ELSE v.at + interval '20 days' END
FROM (
    SELECT u.*,
           CASE WHEN u.h1 % 100 < 3 THEN 1 WHEN u.h1 % 100 < 20 THEN 2 ELSE 3 END AS urgency,
           CASE WHEN u.at > %(t0)s - interval '60 days'
                    THEN (ARRAY['new', 'analysis', 'more_info', 'evaluation'])[1 + u.h2 % 4]
                WHEN u.h1 % 1000 < 10 THEN 'evaluation'
                ELSE (ARRAY['closed', 'closed', 'help', 'signalement', 'transferred', 'linked'])[1 + u.h2 % 6]
           END AS status,
           CASE WHEN u.h2 % 10 < 6 THEN 'public' WHEN u.h2 % 10 < 9 THEN 'professional' ELSE 'young' END AS src
    FROM (
        SELECT g,
               (g * 2654435761) % 1099511627776 AS m,
               (hashint8(g) & 2147483647) AS h1,
               (hashint8(-g) & 2147483647) AS h2,
               CASE WHEN (hashint8(g * 31) & 2147483647) % 10 < 7 THEN '31'
                    ELSE (ARRAY['38', '39', '44'])[1 + (hashint8(g * 31) & 2147483647) % 3] END AS dep,
               %(t0)s - make_interval(secs => (%(n)s - g)::float8 / %(n)s * 157680000) AS at
        FROM generate_series(1, %(n)s::bigint) AS g
    ) u
) v
JOIN crip_keys k ON k.departement = v.dep AND k.active
"""


def _code_sql(first: int) -> str:
    parts = [f"substr('{ALPHABET}', ((v.m >> {5 * k}) & 31)::int + 1, 1)" for k in range(first, first + 4)]
    return "(" + " || ".join(parts) + ")"


def fill_sql() -> str:
    """The fill statement, with every literal % doubled for the driver's %(name)s parameters."""
    sql = FILL.replace("{code4a}", _code_sql(0)).replace("{code4b}", _code_sql(4))
    return re.sub(r"%(?!\()", "%%", sql)


class Capture:
    """The last statement and parameters an engine sent (to EXPLAIN exactly what page() runs)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.statement = self.params = None
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.statement, self.params = statement, parameters


class Target:
    """One filled scratch database."""

    def __init__(self, n: int, engine):
        from sqlalchemy.orm import sessionmaker
        self.n, self.engine = n, engine
        self.Session = sessionmaker(bind=engine, expire_on_commit=False)
        self.capture = Capture(engine)


def time_interleaved(fns: list, runs: int, budget: float) -> list[list[float]]:
    """Run each function `runs` times, alternating between them run by run, so that a change of load
    on the machine hits every target alike (20 warm-up runs each first)."""
    for fn in fns:
        for _ in range(min(20, runs)):
            fn()
    out = [[] for _ in fns]
    stop = time.monotonic() + budget
    for _ in range(runs):
        if time.monotonic() > stop:
            break
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            out[i].append((time.perf_counter() - t) * 1000)
    return out


def queries():
    """name -> function(session, target_info) running one query the way the portal does."""
    from datetime import datetime, timedelta, timezone
    from sqlalchemy import func, select
    from portal.domain import queue, workflow
    from portal.models import InformationPreoccupante as IP

    agent = [IP.received_by == "31"]
    since = datetime.now(timezone.utc) - timedelta(days=1)

    def page(cond, deep=False):
        def run(s, info):
            rows, _more = queue.page(s, cond, info["middle"] if deep else None)
            if not rows:
                raise RuntimeError("empty page")
        return run

    return {
        "agent": page(agent),
        "open": page(agent + [IP.status.in_(workflow.OPEN)]),
        "view default": page(agent + [IP.probably_automated.is_(False)]),
        "deep page (cursor at the middle)": page(agent, deep=True),
        "view: counts by status": lambda s, info: s.execute(
            select(IP.status, func.count()).where(*agent).group_by(IP.status)).all(),
        "view: new since last visit": lambda s, info: s.scalar(
            select(func.count()).select_from(IP).where(*agent, IP.received_at > since)),
        # what the desk (portal/crip/queue.py) now runs besides the page
        "desk: counts of the common filters": lambda s, info: queue.desk_counts(
            s, queue.Scope("31"), user_id=1, today=since.date()),
        "desk: new IPs and messages since last visit": lambda s, info: queue.new_since(s, agent, since),
    }


def measure(targets: list, runs: int, budget: float) -> dict:
    from sqlalchemy import text
    infos = []
    for t in targets:
        with t.engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM ips WHERE received_by = '31'")).scalar()
            mid = conn.execute(text("SELECT urgency, received_at, id FROM ips WHERE received_by = '31' "
                                    "ORDER BY urgency, received_at, id OFFSET :o LIMIT 1"), {"o": total // 2}).one()
        infos.append({"rows_31": total, "middle": (mid[0], mid[1], mid[2])})
    out = {t.n: {"rows_31": info["rows_31"]} for t, info in zip(targets, infos)}
    for name, q in queries().items():
        fns = []
        for t, info in zip(targets, infos):
            def run(t=t, info=info, q=q):
                with t.Session() as s:
                    q(s, info)
            fns.append(run)
        n_runs = runs if name in ("agent", "open", "view default") else max(20, runs // 4)
        times = time_interleaved(fns, n_runs, budget)
        for t, fn, ts in zip(targets, fns, times):
            plan = explain(t.engine, t.capture, fn)
            out[t.n][name] = {"times": ts, "plan": plan}
        log(f"    {name:34s} " + "   ".join(
            f"{t.n:>9,}: p50 {common.percentile(ts, 50):7.2f} ms p95 {common.percentile(ts, 95):7.2f} ms ({len(ts)})"
            for t, ts in zip(targets, times)))
    return out


def explain(engine, capture: Capture, run) -> str:
    """The plan's main nodes, from EXPLAIN (ANALYZE, BUFFERS) of the very statement run() sends."""
    run()
    statement, params = capture.statement, capture.params
    with engine.connect() as conn:
        lines = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
    nodes = []
    for line in lines:
        s = line.strip().lstrip("-> ").strip()
        if any(s.startswith(k) for k in ("Limit", "Index", "Seq Scan", "Bitmap", "Sort", "Incremental Sort",
                                         "HashAggregate", "GroupAggregate", "Aggregate", "Gather", "Parallel")):
            head = s.split("  (")[0]
            rows = ""
            if "actual time" in s and "rows=" in s.split("actual time")[1]:
                rows = " rows=" + s.split("actual time")[1].split("rows=")[1].split()[0]
            nodes.append(head + rows)
        if s.startswith("Rows Removed by Filter"):
            nodes.append(s)
        if s.startswith("Buffers") and len(nodes) <= 2:
            nodes.append(s)
    return "; ".join(nodes[:6])


def fill(engine, n: int, sealed_bytes: int):
    from sqlalchemy import text
    t = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE ips RESTART IDENTITY CASCADE"))
        conn.exec_driver_sql(fill_sql(), {"n": n, "t0": _now(), "md5s": max(1, sealed_bytes // 16)})
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.driver_connection.execute("VACUUM (ANALYZE) ips")
    finally:
        raw.close()
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('ips'))")).scalar()
        count = conn.execute(text("SELECT count(*) FROM ips")).scalar()
    return time.perf_counter() - t, size, count


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 000 and 100 000 IPs instead of 1 000 and 1 000 000")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--sealed-bytes", type=int, default=256, help="size of the sealed column (default 256)")
    args = ap.parse_args(argv)
    sizes = [1_000, 100_000 if args.quick else 1_000_000]

    from sqlalchemy.orm import Session as _S
    from portal.config import from_env
    from portal.domain import keys
    from portal.extensions import engine_of_config
    from portal.migrate import upgrade

    fills = {}
    with contextlib.ExitStack() as stack:
        targets = []
        for n in sizes:
            url = stack.enter_context(scratch_pg(f"bench_queue_{n}"))
            env = {"DATABASE_URL": url, "SECRET_KEY": "x" * 32, "PORTAL_INSTANCE_PATH": "/nonexistent"}
            engine = engine_of_config(from_env(env))        # the timeouts the portal runs with
            stack.callback(engine.dispose)
            # Building the data (one INSERT … SELECT of up to a million rows, then VACUUM ANALYZE) takes
            # longer than the portal's statement timeout: it gets its own engine, without one.
            loader = engine_of_config(from_env(dict(env, DATABASE_STATEMENT_TIMEOUT="0")))
            try:
                upgrade(loader)
                with _S(loader) as s:
                    for dep in ("31", "38", "39", "44"):
                        keys.create_crip_key(s, dep)
                    s.commit()
                seconds, size, count = fill(loader, n, args.sealed_bytes)
            finally:
                loader.dispose()
            fills[n] = (seconds, size, count)
            log(f"  {count:,} IPs filled in {seconds:.1f} s (ips: {size})")
            targets.append(Target(n, engine))
        results = measure(targets, args.runs, 300.0)

    small, large = sizes
    names = ["agent", "open", "view default", "deep page (cursor at the middle)",
             "view: counts by status", "view: new since last visit"]
    rows, verdicts = [], {}
    for name in names:
        a, b = results[small][name]["times"], results[large][name]["times"]
        p95a, p95b = common.percentile(a, 95), common.percentile(b, 95)
        ratio = p95b / p95a
        goal = ""
        if name in ("agent", "open"):
            ok = p95b < GOAL_MS and ratio < GOAL_RATIO
            verdicts[name] = (ok, p95b, ratio)
            goal = common.verdict(ok)
        rows.append((name, f"{common.percentile(a, 50):.2f}", f"{p95a:.2f}", f"{common.percentile(b, 50):.2f}",
                     f"**{p95b:.2f}**", f"**{ratio:.2f}**", goal))
    plans = [f"- {name} at {large:,}: {results[large][name]['plan']}" for name in names]
    body = "\n".join([
        f"PostgreSQL {common.pg_version()}, scratch database; `ips` filled with one INSERT … SELECT FROM "
        f"generate_series, then VACUUM ANALYZE. "
        + "; ".join(f"{n:,} IPs ({fills[n][2]:,} rows, {fills[n][1]}, filled in {fills[n][0]:.0f} s, "
                    f"{results[n]['rows_31']:,} for the 31)" for n in sizes)
        + f". {args.runs} timed runs of `portal.domain.queue.page()` per variant (after 20 warm-up runs), "
          f"a new session each, alternating run by run between the two databases; the deep page and the "
          f"view's two other queries {max(20, args.runs // 4)} runs.",
        "",
        common.table(["query", f"p50 ms at {small:,}", f"p95 ms at {small:,}", f"p50 ms at {large:,}",
                      f"p95 ms at {large:,}", f"p95 ratio {large:,} / {small:,}",
                      f"goal (p95 < {GOAL_MS:.0f} ms, ratio < {GOAL_RATIO:.0f})"], rows),
        "",
        "Plans (EXPLAIN ANALYZE of the statement page() sends, main nodes):",
        "",
        *plans,
    ])
    log("\n" + body + "\n")
    common.write_section("queue", "CRIP queue, first page (queue.py)", body)
    a, o = verdicts["agent"], verdicts["open"]
    common.summary_line("queue", f"first page p95 at {large:,}: agent {a[1]:.1f} ms (x{a[2]:.2f} vs 1k), open "
                                 f"{o[1]:.1f} ms (x{o[2]:.2f}); goals {'met' if a[0] and o[0] else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
