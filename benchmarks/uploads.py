"""Hostile uploads against a real gunicorn: what one upload may cost a worker, and large files sent.

    python benchmarks/uploads.py [--quick]

A scratch PostgreSQL database, `gunicorn -w 2` on 127.0.0.1 (production settings, limits in Redis).
One browser fills the form up to the documents step, then uploads, one at a time:
- a zip bomb: a 1 MB OpenDocument text whose `mimetype` entry inflates to 1 GiB;
- pixel bombs: PNGs of 10000×10000 and 30000×30000 pixels (a few hundred KB, a few MB);
- a PDF with JavaScript (OpenAction, page action, JavaScript name tree), a Launch action, an
  embedded file and metadata.
For each: the answer and its time, each worker's peak memory during it (VmHWM, reset before each
upload through /proc/PID/clear_refs) and the peak of the inspection child it started (sampled every
20 ms), and a second browser loading pages meanwhile (the site must keep answering). Goal: every
worker under 300 MB, every upload answered within 5 s, the bombs refused with their reason.

Then a second browser attaches 5 files of 10 MB and sends: the memory each upload and the send
add to the worker above its idle size (goal: under 100 MB). Finally the first browser sends its IP
and the stored PDF is opened with the CRIP's private key: it must hold no JavaScript, no action,
no embedded file and no metadata.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import secrets
import sys
import threading
import time

import common
from common import Browser, Gunicorn, ReportFlow, log, portal_env, scratch_dir, scratch_pg

sys.path.insert(0, str(common.ROOT / "tests"))
import bombs  # tests/bombs.py: the same bombs as the tests

PREFIX = "/signaler"
WORKER_MB_GOAL, SECONDS_GOAL, SEND_MB_GOAL = 300, 5.0, 100
BIG_FILE = 10_000_000


def status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(pid: int) -> None:
    """VmHWM back to the current resident size (Linux: write 5 to clear_refs)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


class Watch:
    """During one request: each worker's peak (VmHWM), the peak of any child it starts, and a second
    browser's page loads."""

    def __init__(self, srv: Gunicorn):
        self.srv, self.workers = srv, srv.worker_pids()
        self.child_peak_kb, self.children = 0, set()
        self.probe_times, self.probe_errors = [], 0
        self._stop = threading.Event()

    def __enter__(self):
        for pid in self.workers:
            reset_peak(pid)
        self.rss_before = {pid: status_kb(pid, "VmRSS") for pid in self.workers}
        self.t0 = time.perf_counter()
        self._threads = [threading.Thread(target=self._sample, daemon=True),
                         threading.Thread(target=self._probe, daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        for t in self._threads:
            t.join(10)
        self.peak_kb = {pid: status_kb(pid, "VmHWM") for pid in self.workers}
        return False

    def _sample(self):
        while not self._stop.is_set():
            for w in self.workers:
                for child in common.children_of(w):
                    # Only once it runs the inspector: between fork and exec it still shows the worker.
                    with contextlib.suppress(OSError), open(f"/proc/{child}/cmdline", "rb") as f:
                        if b"inspection.py" not in f.read():
                            continue
                    self.children.add(child)
                    self.child_peak_kb = max(self.child_peak_kb, status_kb(child, "VmHWM"))
            time.sleep(0.02)

    def _probe(self):
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                status = common.http_get(self.srv.port, "/", timeout=10)[0]
                if status != 200:
                    self.probe_errors += 1
            except OSError:
                self.probe_errors += 1
            self.probe_times.append(time.perf_counter() - t)
            time.sleep(0.05)


def fill_until_documents(b: Browser) -> str:
    flow = ReportFlow(b)
    token = flow._call("GET", f"{PREFIX}/").csrf()
    nxt = flow._call("POST", f"{PREFIX}/commencer", [("csrf_token", token)], expect=(302, 303)).location
    nxt = flow._step(nxt, [("source_type", "public")])
    nxt = flow._step(nxt, common.CHILD)
    nxt = flow._step(nxt, [("action", "continue")])
    nxt = flow._step(nxt, common.ADULTS)
    nxt = flow._step(nxt, common.CONCERN)
    nxt = flow._step(nxt, common.SENDER)
    if not nxt.startswith(f"{PREFIX}/etape/documents"):
        raise common.Refused(f"expected the documents step, got {nxt}")
    return nxt


def upload(b: Browser, name: str, data: bytes) -> tuple[int, str]:
    """POST one file to the documents step as a browser does (multipart); (status, error shown)."""
    token = b.request("GET", f"{PREFIX}/etape/documents").csrf()
    boundary = "----bench" + secrets.token_hex(8)
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in (("csrf_token", token), ("action", "upload"))).encode()
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection(common.HOST, b.port, timeout=60)
    try:
        conn.putrequest("POST", f"{PREFIX}/etape/documents")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + len(data) + len(tail)))
        conn.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in b.cookies.items()))
        conn.putheader("Accept-Language", "en")
        conn.endheaders()
        conn.send(head)
        view = memoryview(data)
        for i in range(0, len(data), 1 << 20):
            conn.send(view[i:i + (1 << 20)])
        conn.send(tail)
        r = conn.getresponse()
        body = r.read().decode("utf-8", "replace")
        for raw in r.headers.get_all("Set-Cookie") or []:
            b._set_cookie(raw)
    finally:
        conn.close()
    import re
    error = re.search(r'class="error-message"[^>]*>(?:<span[^>]*>[^<]*</span>)?\s*([^<]+)<', body)
    return r.status, (error.group(1).strip() if error else "")


def send(b: Browser) -> tuple[str, str]:
    flow = ReportFlow(b)
    nxt = flow._step(f"{PREFIX}/etape/documents", [("action", "continue")])
    token = flow._call("GET", nxt).csrf()
    loc = flow._call("POST", f"{PREFIX}/envoyer", [("csrf_token", token), ("confirm", "y"), ("website", "")],
                     expect=(302, 303)).location
    page = flow._call("GET", loc).text
    return common.REF_RE.search(page).group(1), "".join(common.CODE_RE.search(page).group(1).split())


def stored_attachments(env: dict, private_key: bytes, reference: str) -> list[tuple[dict, bytes]]:
    from portal.config import from_env
    from portal.domain import intake
    from portal.extensions import make_engine
    from sqlalchemy import text
    engine = make_engine(from_env(env)["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT a.sealed FROM attachments a JOIN ips i ON i.id = a.ip_id "
                                     "WHERE i.reference = :r ORDER BY a.id"), {"r": reference}).all()
        return [intake.open_attachment(private_key, bytes(sealed)) for (sealed,) in rows]
    finally:
        engine.dispose()


def pdf_findings(data: bytes) -> list[str]:
    """Anything active or identifying left in a PDF (every dictionary, nested ones too)."""
    import io

    import pikepdf
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        stack = list(pdf.objects)
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Stream):
                obj = obj.stream_dict
            if isinstance(obj, pikepdf.Dictionary):
                found += [k for k in ("/JS", "/JavaScript", "/OpenAction", "/AA", "/EmbeddedFiles", "/Metadata")
                          if k in obj]
                if str(obj.get("/S", "")) in ("/JavaScript", "/Launch"):
                    found.append(str(obj["/S"]))
                stack += [v for v in obj.values() if isinstance(v, (pikepdf.Dictionary, pikepdf.Array))
                          and not v.is_indirect]
            elif isinstance(obj, pikepdf.Array):
                stack += [v for v in obj if isinstance(v, (pikepdf.Dictionary, pikepdf.Array)) and not v.is_indirect]
        if "/Info" in pdf.trailer:
            found.append("/Info")
    return found + [m.decode() for m in (b"JavaScript", b"Secret Author", b"app.alert") if m in data]


def prepare(env: dict) -> bytes:
    """Migrate, and create the CRIP key whose private half this script keeps to read what was stored."""
    from portal import create_app
    from portal.domain import keys
    from portal.extensions import db
    from portal.migrate import upgrade
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"}, env=env)
    try:
        with app.app_context():
            upgrade(db.engine)
            private = keys.create_crip_key(db.session, "31")
            db.session.commit()
            return private
    finally:
        app.extensions["portal_engine"].dispose()


def mb(kb: int) -> float:
    return kb / 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the same run (it is short already)")
    ap.parse_args(argv)
    problems = []
    attacks = [
        ("zip bomb: ODT, 1 GiB inflated", "lettre.odt", bombs.zip_bomb_odt(bombs.GIB), 400),
        ("pixel bomb: PNG 10000×10000", "photo.png", bombs.pixel_bomb_png(10_000, 10_000), 400),
        ("pixel bomb: PNG 30000×30000", "photo.png", bombs.pixel_bomb_png(30_000, 30_000), 400),
        ("PDF with JavaScript, Launch, embedded file, metadata", "rapport.pdf", bombs.pdf_with_javascript(), 302),
    ]
    rows, big_rows = [], []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(scratch_dir("bench-uploads"))
        env = portal_env(tmp, stack.enter_context(scratch_pg("bench_uploads")))
        private_key = prepare(env)
        srv = stack.enter_context(Gunicorn("wsgi:app", workers=2, env=env, name="uploads"))
        idle = {pid: mb(status_kb(pid, "VmRSS")) for pid in srv.worker_pids()}
        log(f"  gunicorn -w 2 up; worker idle RSS: {', '.join(f'{v:.0f} MB' for v in idle.values())}")

        attacker = Browser(srv.port)
        fill_until_documents(attacker)
        for label, name, data, expect in attacks:
            with Watch(srv) as w:
                status, error = upload(attacker, name, data)
            worker_peak = max(mb(v) for v in w.peak_kb.values())
            probes = len(w.probe_times)
            slowest = max(w.probe_times) if w.probe_times else float("nan")
            ok = (status == expect and worker_peak < WORKER_MB_GOAL and w.seconds < SECONDS_GOAL
                  and mb(w.child_peak_kb) < WORKER_MB_GOAL and probes > 0 and w.probe_errors == 0)
            if not ok:
                problems.append(f"{label}: HTTP {status} (expected {expect}), {w.seconds:.2f} s, worker "
                                f"{worker_peak:.0f} MB, child {mb(w.child_peak_kb):.0f} MB, {probes} pages "
                                f"loaded meanwhile, {w.probe_errors} failed")
            rows.append((label, f"{len(data) / 1e6:.2f} MB", f"{status} {error or ('stored' if status == 302 else '')}",
                         f"{w.seconds:.2f}", f"{worker_peak:.0f}", f"{mb(w.child_peak_kb):.0f}",
                         f"{probes} ({w.probe_errors} failed), slowest {slowest * 1000:.0f} ms", common.verdict(ok)))
            log(f"  {label}: HTTP {status} {error!r} in {w.seconds:.2f} s; worker peak {worker_peak:.0f} MB, "
                f"inspection child peak {mb(w.child_peak_kb):.0f} MB; {probes} pages loaded meanwhile")

        # Five files of 10 MB, then the send -------------------------------------------------------
        sender = Browser(srv.port)
        fill_until_documents(sender)
        for _ in range(20):                 # both workers have served pages: their idle size, warm
            common.http_get(srv.port, f"{PREFIX}/")
        warm = {pid: mb(status_kb(pid, "VmRSS")) for pid in srv.worker_pids()}
        peak_all = dict.fromkeys(warm, 0.0)
        big = [secrets.token_hex(BIG_FILE // 2).encode() for _ in range(5)]
        for i, data in enumerate(big):
            with Watch(srv) as w:
                status, error = upload(sender, f"notes{i}.txt", data)
            added = max(mb(w.peak_kb[p]) - mb(w.rss_before[p]) for p in w.workers)
            for p in w.workers:
                peak_all[p] = max(peak_all.get(p, 0.0), mb(w.peak_kb[p]))
            big_rows.append((f"upload {i + 1} of 5 (10 MB text)", status, f"{w.seconds:.2f}", f"{added:.0f}",
                             f"{mb(w.child_peak_kb):.0f}", common.verdict(status == 302 and added < SEND_MB_GOAL)))
            if status != 302 or added >= SEND_MB_GOAL:
                problems.append(f"10 MB upload {i + 1}: HTTP {status} {error}, {added:.0f} MB above the worker's size")
        before_send = {pid: mb(status_kb(pid, "VmRSS")) for pid in srv.worker_pids()}
        with Watch(srv) as w:
            reference, _code = send(sender)
        added = max(mb(w.peak_kb[p]) - before_send[p] for p in w.workers)
        for p in w.workers:
            peak_all[p] = max(peak_all.get(p, 0.0), mb(w.peak_kb[p]))
        above_idle = max(peak_all[p] - warm.get(p, before_send[p]) for p in w.workers)
        above_cold = max(peak_all[p] - idle.get(p, before_send[p]) for p in w.workers)
        big_rows.append(("send the IP with the 5 files (POST /envoyer and its pages)", 303, f"{w.seconds:.2f}",
                         f"{added:.0f}", "–", common.verdict(added < SEND_MB_GOAL)))
        big_rows.append(("all of it: 5 uploads and the send, highest worker peak", "", "",
                         f"{above_idle:.0f} above the warm idle size ({above_cold:.0f} above the size at start)",
                         "", common.verdict(above_idle < SEND_MB_GOAL)))
        if above_idle >= SEND_MB_GOAL or added >= SEND_MB_GOAL:
            problems.append(f"sending 5 × 10 MB: worker +{added:.0f} MB in the send, peak {above_idle:.0f} MB "
                            "above its warm idle size")
        stored = stored_attachments(env, private_key, reference)
        if sorted(len(d) for _m, d in stored) != sorted(len(d) for d in big):
            problems.append(f"sending 5 × 10 MB: {len(stored)} attachments stored, sizes differ")
        log(f"  5 × 10 MB sent: worker peak {above_idle:.0f} MB above idle; {len(stored)} attachments stored")

        # The attacker's IP, with the PDF: what was stored? ------------------------------------
        reference, _code = send(attacker)
        stored = stored_attachments(env, private_key, reference)
        pdfs = [d for meta, d in stored if meta["mime"] == "application/pdf"]
        left = pdf_findings(pdfs[0]) if len(pdfs) == 1 else ["no PDF stored"]
        if left or len(stored) != 1:
            problems.append(f"stored PDF: {len(stored)} attachments; left in it: {', '.join(left) or 'nothing'}")
        command = srv.command
        log_text = srv.log_text()
        if "Traceback" in log_text or "WORKER TIMEOUT" in log_text:
            problems.append("the server log has a traceback or a worker timeout")

    body = "\n".join([
        f"`{command}` on a scratch PostgreSQL database (production settings, limits in Redis); each upload "
        "goes through the documents step as a browser sends it (multipart, CSRF). Worker peak: the highest "
        "VmHWM of the two workers during the upload (reset before it); inspection child: the highest VmHWM "
        "of the child process the worker started for it (sampled every 20 ms); meanwhile a second browser "
        f"loads the home page every 50 ms. Goal: every worker and child under {WORKER_MB_GOAL} MB, every "
        f"answer within {SECONDS_GOAL:.0f} s, the site answering meanwhile. Worker idle size at start: "
        f"{', '.join(f'{v:.0f} MB' for v in idle.values())}.",
        "",
        common.table(["upload", "size", "answer", "seconds", "worker peak MB", "inspection child peak MB",
                      "pages loaded meanwhile", "goal"], rows),
        "",
        f"Stored PDF, opened with the CRIP's private key: "
        f"{'no JavaScript, no action, no embedded file, no metadata' if not left else 'left in it: ' + ', '.join(left)}.",
        "",
        f"Large files: 5 files of 10 MB attached, then sent. Memory the worker added above its size before "
        f"each request (VmHWM − VmRSS), and the highest peak of all of it above the worker's idle size once "
        f"warm (after it served pages: {', '.join(f'{v:.0f} MB' for v in warm.values())}); goal: under "
        f"{SEND_MB_GOAL} MB.",
        "",
        common.table(["request", "answer", "seconds", "worker MB added", "inspection child peak MB", "goal"],
                     big_rows),
    ] + ([f"\nProblems: {'; '.join(problems)}"] if problems else []))
    log("\n" + body + "\n")
    common.write_section("uploads", "Hostile and large uploads (uploads.py)", body)
    worst = max(float(r[4]) for r in rows)
    common.summary_line("uploads", f"bombs refused, worst worker peak {worst:.0f} MB (goal < {WORKER_MB_GOAL}), "
                                   f"slowest {max(float(r[3]) for r in rows):.2f} s; stored PDF "
                                   f"{'clean' if not left else 'NOT clean'}; 5 × 10 MB sent: worker "
                                   f"+{above_idle:.0f} MB above idle (goal < {SEND_MB_GOAL})"
                                   + ("" if not problems else f"; {len(problems)} problem(s)"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
