"""Slow clients: can 20 clients sending their request body at one byte per second starve the workers?

    python benchmarks/slowclients.py [--quick] [--slow 20] [--seconds 15]

Twenty sockets each POST a form step announcing a 100 KB body and send it one byte per second, while four
"other visitors" load pages (/ and /signaler/, 5 s patience each). Measured, for each server set-up:
the other visitors' latency (p50/p95, an unanswered request counted at the 5 s patience) and how many
pages were answered:

1. `gunicorn -w 3` sync workers exposed directly (the README's former command): the reference of what
   slow clients do;
2. gunicorn with the shipped configuration (`deploy/gunicorn.conf.py`: gthread workers), exposed directly;
3. the same behind nginx with the shipped proxy settings (`deploy/nginx/portal-proxy.conf`), when nginx
   is installed.

Goal: with the shipped configuration, other visitors' p95 under 1 s. Each set-up first runs a few
seconds without slow clients (the same pages, the same load) for comparison.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import common
from common import Gunicorn, log, percentile, portal_env, prepare_portal_db, scratch_dir, scratch_pg

DEPLOY = common.ROOT / "deploy"
PATIENCE = 5.0
PAGES = ["/", "/signaler/"]


def slow_client(port: int, stop: threading.Event, sent: list, i: int):
    """POST a form step announcing a 100 KB body, then send it one byte per second until told to stop."""
    try:
        sock = socket.create_connection((common.HOST, port), timeout=5)
    except OSError:
        return
    try:
        sock.sendall(b"POST /signaler/etape/qui HTTP/1.1\r\nHost: localhost\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
        while not stop.wait(1.0):
            try:
                sock.sendall(b"a")
                sent[i] += 1
            except OSError:
                return   # the server gave up on it (nginx's client_body_timeout, a worker restart...)
    finally:
        sock.close()


def visitors(port: int, seconds: float, threads: int = 4) -> dict:
    lat, failed = [], [0]
    reasons = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(k):
        conn = None
        while time.monotonic() < stop_at:
            path = PAGES[k % len(PAGES)]
            k += 1
            t = time.perf_counter()
            ok, why = False, None
            for _attempt in (1, 2):   # as browsers do: a kept-alive connection closed meanwhile is retried once
                reused = conn is not None
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(common.HOST, port, timeout=PATIENCE)
                    conn.request("GET", path, headers={"Accept-Language": "fr"})
                    r = conn.getresponse()
                    r.read()
                    ok, why = r.status == 200, f"HTTP {r.status}"
                    if r.will_close:
                        conn.close()
                        conn = None
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                    why = type(exc).__name__
                    if conn is not None:
                        conn.close()
                    conn = None
                    if not reused:
                        break
                except (OSError, http.client.HTTPException) as exc:
                    why = type(exc).__name__
                    if conn is not None:
                        conn.close()
                    conn = None
                    break
            elapsed = time.perf_counter() - t
            with lock:
                if ok:
                    lat.append(elapsed)
                else:
                    failed[0] += 1
                    reasons[why] += 1
                    lat.append(max(elapsed, PATIENCE))   # counted at the patience: no answer is not fast
        if conn is not None:
            conn.close()

    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(seconds + PATIENCE + 10)
    answered = len(lat) - failed[0]
    return {"requests": len(lat), "answered": answered, "failed": failed[0], "reasons": dict(reasons),
            "p50": percentile(lat, 50) * 1000, "p95": percentile(lat, 95) * 1000}


def measure(port: int, n_slow: int, seconds: float, calm: float) -> dict:
    before = visitors(port, calm)
    stop = threading.Event()
    sent = [0] * n_slow
    slow = [threading.Thread(target=slow_client, args=(port, stop, sent, i), daemon=True) for i in range(n_slow)]
    for t in slow:
        t.start()
    time.sleep(2.0)   # the slow clients are in
    try:
        during = visitors(port, seconds)
    finally:
        stop.set()
        for t in slow:
            t.join(5)
    during["slow_bytes"] = sum(sent)
    return {"calm": before, "slow": during}


class Nginx:
    """nginx in front of a gunicorn port, with the shipped proxy settings included unchanged."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = common.free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.proc = None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("nginx") or (("/usr/sbin/nginx") if os.path.exists("/usr/sbin/nginx") else None)

    def __enter__(self):
        d = self.dir
        os.chmod(d, 0o777)
        conf = d / "nginx.conf"
        conf.write_text(f"""
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log crit;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream portal {{ server {common.HOST}:{self.upstream_port}; keepalive 16; }}
    server {{
        listen {common.HOST}:{self.port};
        include {DEPLOY / "nginx" / "portal-proxy.conf"};
    }}
}}
""")
        check = subprocess.run([self.binary(), "-t", "-q", "-c", str(conf), "-p", str(d)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t: {check.stderr.strip()}")
        self.proc = subprocess.Popen([self.binary(), "-c", str(conf), "-p", str(d)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if common.http_get(self.port, "/", timeout=5)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("nginx did not start")

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def row(name, m):
    calm, slow = m["calm"], m["slow"]
    why = ", ".join(f"{k} × {v}" for k, v in slow["reasons"].items())
    return (name, f"{calm['p50']:.0f} / {calm['p95']:.0f} ms", f"{slow['p50']:.0f} / {slow['p95']:.0f} ms",
            f"{slow['answered']} of {slow['requests']}", f"{slow['failed']}{f' ({why})' if why else ''}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter measurements (8 s each)")
    ap.add_argument("--slow", type=int, default=20, help="slow clients (default 20)")
    ap.add_argument("--seconds", type=float, help="measurement with slow clients, per set-up (default 12; 8 with --quick)")
    args = ap.parse_args(argv)
    seconds = args.seconds or (8.0 if args.quick else 12.0)
    calm = 3.0
    results = {}
    with scratch_dir("bench-slow") as tmp, scratch_pg("bench_slow") as url:
        env = portal_env(tmp, url)
        prepare_portal_db(env)
        log(f"{args.slow} slow clients (1 byte/s bodies), 4 visitors, {seconds:.0f} s per set-up")
        t_start = time.monotonic()
        with Gunicorn("wsgi:app", workers=3, env=env, name="slow-sync") as srv:
            sync_command = srv.command
            results["sync"] = measure(srv.port, args.slow, seconds, calm)
            log("  sync workers:", row("", results["sync"]), f"at {time.monotonic() - t_start:.0f} s")
        log(f"  sync server stopped at {time.monotonic() - t_start:.0f} s")
        with Gunicorn("wsgi:app", workers=3, env=env, name="slow-gthread", config=DEPLOY / "gunicorn.conf.py") as srv:
            log(f"  shipped server up at {time.monotonic() - t_start:.0f} s")
            shipped_command = srv.command
            results["shipped"] = measure(srv.port, args.slow, seconds, calm)
            log("  shipped gunicorn:", row("", results["shipped"]), f"at {time.monotonic() - t_start:.0f} s")
            nginx_note = ""
            if Nginx.binary():
                try:
                    with Nginx(srv.port) as proxy:
                        results["nginx"] = measure(proxy.port, args.slow, seconds, calm)
                        log("  nginx + shipped gunicorn:", row("", results["nginx"]))
                except RuntimeError as exc:
                    nginx_note = f"nginx could not run here: {exc}"
            else:
                nginx_note = "nginx is not installed here: the set-up behind nginx was not measured."
    threads = "16"
    rows = [row(f"sync workers exposed directly (`{sync_command}`)", results["sync"]),
            row(f"shipped configuration, exposed directly (`{shipped_command}`: gthread, 3 × {threads} threads)",
                results["shipped"])]
    if "nginx" in results:
        rows.append(row("shipped configuration behind nginx (`deploy/nginx/portal-proxy.conf`)", results["nginx"]))
    goal_ok = results["shipped"]["slow"]["p95"] < 1000 and results["shipped"]["slow"]["failed"] == 0
    if "nginx" in results:
        goal_ok = goal_ok and results["nginx"]["slow"]["p95"] < 1000 and results["nginx"]["slow"]["failed"] == 0
    body = "\n".join([
        f"{args.slow} slow clients each POST a form step announcing a 100 KB body and send it at 1 byte/s; four "
        f"other visitors load `/` and `/signaler/` in a loop ({PATIENCE:.0f} s patience; an unanswered request "
        f"counts as {PATIENCE:.0f} s). First {calm:.0f} s without slow clients, then {seconds:.0f} s with them "
        "(after 2 s for them to connect). PostgreSQL scratch database, limits in Redis, production settings.",
        "",
        common.table(["server", "visitors p50 / p95, no slow client", f"visitors p50 / p95, {args.slow} slow clients",
                      "pages answered", "unanswered"], rows),
        "",
        f"Goal (shipped configuration, other visitors' p95 under 1 s with {args.slow} slow clients, every page "
        f"answered): **{'met' if goal_ok else 'missed'}**." + (f" {nginx_note}" if nginx_note else ""),
    ])
    log("\n" + body + "\n")
    common.write_section("slowclients", "Slow clients (slowclients.py)", body)
    parts = [f"sync p95 {results['sync']['slow']['p95']:.0f} ms ({results['sync']['slow']['failed']} unanswered)",
             f"shipped gthread p95 {results['shipped']['slow']['p95']:.0f} ms"]
    if "nginx" in results:
        parts.append(f"behind nginx p95 {results['nginx']['slow']['p95']:.0f} ms")
    common.summary_line("slowclients", f"{args.slow} slow clients: " + ", ".join(parts) +
                        f": goal p95 < 1 s {'met' if goal_ok else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
