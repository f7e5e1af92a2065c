"""Every page's throughput against a bare Flask app under the same gunicorn settings, page weight,
third-party requests.

    python benchmarks/pages.py [--quick]

1. Throughput, served by `gunicorn -w 2` (sync workers, production settings, limits in Redis),
   against benchmarks/hello_app.py under the very same gunicorn command, both servers side by side:
   - every public page (the home page and each information page), no cookie. Goal >= 0.5 x hello;
   - every page of the form, GET with a draft (its cookie) and its CSRF token: the start page, each
     step of a public sender's path, the check page, and the follow-up sign-in page. Goal >= 0.25 x;
   - the CRIP queue's first page, signed in as an agent (password and second factor), with 40 IPs
     in the queue. Goal >= 0.25 x.
   hello is measured before each group and between them; each page's ratio is to the median of
   hello's runs, so that a load change on the machine hits both alike. The server CPU time per
   request (read from /proc for the gunicorn processes) is printed too: it does not depend on how
   fast the load client itself is. It counts system time: a sync worker accepts and closes a connection
   per request, and about three quarters of hello's CPU is gunicorn's and the kernel's socket work, not Flask.
2. Page weight: each public page's HTML plus the stylesheets and scripts it links, gzip-compressed
   (level 6). Goal: < 30 KB per page.
3. Third-party requests: every src/href of link, script, img (and iframe, source, video, audio,
   embed, object) and every url()/@import of the stylesheets that points to another origin. Goal: 0.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import common
from common import Gunicorn, gzip_size, http_get, load, log, portal_env, prepare_portal_db, scratch_dir, sqlite_url

GOAL_RATIO = 0.5          # public pages
GOAL_RATIO_FORM = 0.25    # form pages with a draft, the CRIP queue
FORM_STEPS = ["/signaler/", "/signaler/etape/qui", "/signaler/etape/enfant?n=0", "/signaler/etape/enfants",
              "/signaler/etape/adultes", "/signaler/etape/inquietude", "/signaler/etape/vous",
              "/signaler/etape/documents", "/signaler/verifier", "/signaler/suivi"]
QUEUE_IPS = 40
GOAL_WEIGHT = 30 * 1024


class Assets(HTMLParser):
    """The resources a page makes the browser fetch."""

    TAGS = {"link": ("href",), "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",),
            "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",), "embed": ("src",),
            "object": ("data",)}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []          # (tag, rel, url)

    def handle_starttag(self, tag, attrs):
        if tag not in self.TAGS:
            return
        a = {k: v or "" for k, v in attrs}
        rel = a.get("rel", "").lower()
        if tag == "link" and not any(r in rel.split() for r in ("stylesheet", "icon", "preload", "modulepreload",
                                                                  "prefetch", "manifest", "apple-touch-icon",
                                                                  "dns-prefetch", "preconnect")):
            return
        for attr in self.TAGS[tag]:
            value = a.get(attr, "").strip()
            if not value:
                continue
            if attr == "srcset":
                for part in value.split(","):
                    self.urls.append((tag, rel, part.strip().split()[0]))
            else:
                self.urls.append((tag, rel, value))


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def foreign(url: str, origin: str) -> bool:
    if url.startswith("data:"):
        return False
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return False
    return f"{parts.scheme or 'http'}://{parts.netloc}" != origin


def weigh(port: int, paths) -> tuple[list, list]:
    origin = f"http://127.0.0.1:{port}"
    rows, third_party = [], []
    asset_cache = {}
    for path in paths:
        status, _h, body = http_get(port, path)
        if status != 200:
            rows.append((path, status, None, None, None, None, []))
            continue
        parser = Assets()
        parser.feed(body.decode("utf-8", "replace"))
        css = js = other = 0
        for tag, rel, url in parser.urls:
            if foreign(url, origin):
                third_party.append((path, tag, url))
                continue
            full = urljoin(origin + path, url)
            local = urlsplit(full).path + (f"?{urlsplit(full).query}" if urlsplit(full).query else "")
            if local not in asset_cache:
                st, headers, data = http_get(port, local)
                asset_cache[local] = (st, headers.get("content-type", ""), data)
                if "css" in headers.get("content-type", ""):
                    for m in CSS_URL.finditer(data.decode("utf-8", "replace")):
                        u = m.group(1) or m.group(2)
                        if foreign(u, origin):
                            third_party.append((local, "css", u))
            st, ctype, data = asset_cache[local]
            size = gzip_size(data)
            if tag == "link" and "stylesheet" in rel:
                css += size
            elif tag == "script":
                js += size
            else:
                other += size
        html = gzip_size(body)
        rows.append((path, status, html, css, js, other, [u for _t, _r, u in parser.urls]))
    return rows, third_party


def draft_headers(port: int) -> dict:
    """A browser with a draft filled up to the check page (a public sender's path): its cookies."""
    b = common.Browser(port)
    flow = common.ReportFlow(b)
    token = flow._call("GET", "/signaler/").csrf()
    nxt = flow._call("POST", "/signaler/commencer", [("csrf_token", token)], expect=(302, 303)).location
    for fields in ([("source_type", "public")], common.CHILD, [("action", "continue")], common.ADULTS,
                   common.CONCERN, common.SENDER, [("action", "continue")]):
        nxt = flow._step(nxt, fields)
    if not nxt.startswith("/signaler/verifier"):
        raise common.Refused(f"the draft did not reach the check page: {nxt}")
    b.close()
    return {"Accept-Language": "fr", "Cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items())}


def prepare_queue(env: dict) -> tuple[str, str, str]:
    """An agent of département 31 enrolled in TOTP, and QUEUE_IPS IPs in the queue: (email, password, secret)."""
    from datetime import datetime, timezone

    import pyotp

    from portal import create_app
    from portal.domain import intake, keys, staff
    from portal.extensions import db

    email, password, secret = "agent.bench@crip.invalid", "bench-password-31", pyotp.random_base32()
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"}, env=env)
    try:
        with app.app_context():
            private = keys.create_crip_key(db.session, "31")   # a new active key whose private half we hold
            user = staff.create_user(db.session, email=email, name="Agent Bench", role="agent", departement="31",
                                     password=password, crip_private_key=private)
            user.totp_secret = staff.encrypt_totp_secret(app.config["SECRET_KEY"], secret)
            user.totp_enrolled = True
            key = keys.active_key(db.session, "31")
            for i in range(QUEUE_IPS):
                answers = {"source_type": "public",
                           "children": [{"first_name": f"Enfant {i}", "age": i % 17, "sex": "f", "postcode": "31000"}],
                           "concern": {"categories": ["neglect"], "account": "Récit", "danger_now": "no"},
                           "sender": {"anonymous": "yes", "contact_language": "fr"}}
                intake.submit(db.session, answers=answers, files=[], received_by="31", served=app.config["PROFILES"],
                              crip_key=key, secret_key=app.config["SECRET_KEY"], submission_token=None,
                              language="fr", probably_automated=False, now=datetime.now(timezone.utc))
            db.session.commit()
    finally:
        app.extensions["portal_engine"].dispose()
    return email, password, secret


def staff_headers(port: int, email: str, password: str, secret: str) -> dict:
    """Sign in through the pages (password, then the second factor): the session's cookies."""
    import pyotp
    b = common.Browser(port)
    flow = common.ReportFlow(b)
    token = flow._call("GET", "/crip/connexion").csrf()
    nxt = flow._call("POST", "/crip/connexion", [("csrf_token", token), ("email", email), ("password", password)],
                     expect=(302, 303)).location
    token = flow._call("GET", nxt).csrf()
    nxt = flow._call("POST", nxt, [("csrf_token", token), ("code", pyotp.TOTP(secret).now())],
                     expect=(302, 303)).location
    if not nxt.rstrip("/").endswith("/crip"):
        raise common.Refused(f"signing in led to {nxt}")
    b.close()
    return {"Accept-Language": "fr", "Cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (about 45 s in all)")
    ap.add_argument("--threads", type=int, default=4, help="load-client threads (default 4)")
    args = ap.parse_args(argv)
    seconds, warmup = (1.0, 0.3) if args.quick else (2.5, 0.5)

    from portal.public.views import PAGES
    public_pages = ["/"] + [p for p, _t in PAGES.values()]
    weight_pages = public_pages + ["/signaler/", "/signaler/suivi"]

    with scratch_dir("bench-pages") as tmp:
        env = portal_env(tmp, sqlite_url(tmp))
        prepare_portal_db(env)
        email, password, secret = prepare_queue(env)
        with Gunicorn("benchmarks.hello_app:app", workers=2, name="hello") as hello, \
                Gunicorn("wsgi:app", workers=2, env=env, name="portal") as portal:
            draft = draft_headers(portal.port)
            staff = staff_headers(portal.port, email, password, secret)
            log(f"hello on :{hello.port}, portal on :{portal.port}; {seconds:.1f} s per target, "
                f"{args.threads} client threads")
            # (name, server, path, headers, group); hello before each group and at the end
            targets = ([("hello /", hello, "/", {}, "hello")]
                       + [(f"portal {p}", portal, p, {"Accept-Language": "fr"}, "public") for p in public_pages]
                       + [("hello /", hello, "/", {}, "hello")]
                       + [(f"portal {p} (draft)", portal, p, draft, "form") for p in FORM_STEPS]
                       + [("hello /", hello, "/", {}, "hello")]
                       + [("portal /crip/ (agent)", portal, "/crip/", staff, "queue")]
                       + [("hello /", hello, "/", {}, "hello")])
            runs = []
            for name, server, path, headers, group in targets:
                res = load(server.port, [path], threads=args.threads, duration=seconds, server=server,
                           warmup=warmup, headers=headers)
                runs.append((name, group, res))
                log(f"  {name:44s} {res['rps']:8.1f} req/s  p50 {res['p50']:6.1f} ms  p95 {res['p95']:6.1f} ms  "
                    f"server CPU {res['cpu_ms_per_req']:.2f} ms/req  {res['statuses']}"
                    + (f"  errors {res['errors']}" if res["errors"] else ""))
            weights, third_party = weigh(portal.port, weight_pages)
            command = portal.command

    hello_runs = [res for _n, group, res in runs if group == "hello"]
    base_rps = statistics.median(r["rps"] for r in hello_runs)
    base_cpu = statistics.median(r["cpu_ms_per_req"] for r in hello_runs)
    spread = (min(r["rps"] for r in hello_runs), max(r["rps"] for r in hello_runs))
    rows, problems, worst = [], [], {}
    rows.append((f"hello / (median of {len(hello_runs)} runs)", "", f"{base_rps:.0f}", "", "", f"{base_cpu:.2f}",
                 "1.00 (baseline)", "", ""))
    for name, group, res in runs:
        if group == "hello":
            continue
        bad = sum(c for st, c in res["statuses"].items() if st != 200) + res["errors"]
        if bad:
            problems.append(f"{name}: {bad} responses not 200 or failed")
        goal = GOAL_RATIO if group == "public" else GOAL_RATIO_FORM
        ratio = res["rps"] / base_rps
        worst[group] = min(worst.get(group, ratio), ratio)
        rows.append((name, group, f"{res['rps']:.0f}", f"{res['p50']:.1f}", f"{res['p95']:.1f}",
                     f"{res['cpu_ms_per_req']:.2f}", f"{ratio:.2f}", f"{base_cpu / res['cpu_ms_per_req']:.2f}",
                     f"≥ {goal}: {common.verdict(ratio >= goal and not bad)}"))
    met = (worst.get("public", 0) >= GOAL_RATIO and worst.get("form", 0) >= GOAL_RATIO_FORM
           and worst.get("queue", 0) >= GOAL_RATIO_FORM and not problems)

    wrows, heavy = [], 0
    for path, status, html, css, js, other, _urls in weights:
        if html is None:
            wrows.append((path, status, "", "", "", "", "not served"))
            continue
        total = html + css + js + other
        ok = total < GOAL_WEIGHT
        heavy += not ok
        wrows.append((path, status, f"{html / 1024:.1f}", f"{css / 1024:.1f}", f"{js / 1024:.1f}",
                      f"{total / 1024:.1f}", common.verdict(ok)))
    max_weight = max((h + c + j + o for _p, _s, h, c, j, o, _u in weights if h is not None), default=0)

    body = [
        f"Servers: `{command}` (portal: PORTAL_HTTPS=true, limits in Redis, SQLite; "
        f"hello: `benchmarks.hello_app:app`, same command). {seconds:.1f} s per target after {warmup:.1f} s of "
        f"warm-up, {args.threads} client threads on the same machine; hello measured {len(hello_runs)} times "
        f"between the groups ({spread[0]:.0f}–{spread[1]:.0f} req/s), ratios to the median. "
        f"Form pages are requested with a draft filled up to the check page (its cookie; each page carries its "
        f"CSRF token); the queue signed in as an agent, {QUEUE_IPS} IPs. "
        f"Translation catalogs compiled: {'yes' if common.catalogs_compiled() else 'no (.mo files absent: pages render the English msgids)'}.",
        "",
        common.table(["target", "group", "req/s", "p50 ms", "p95 ms", "server CPU ms/req",
                      "throughput ratio to hello", "CPU-cost ratio (hello/portal)", "goal"], rows),
        "",
        f"Worst ratios: public pages **{worst.get('public', 0):.2f}** (goal ≥ {GOAL_RATIO}), form pages "
        f"**{worst.get('form', 0):.2f}** (goal ≥ {GOAL_RATIO_FORM}), queue **{worst.get('queue', 0):.2f}** "
        f"(goal ≥ {GOAL_RATIO_FORM}).",
        "",
        "Page weight (gzip level 6; CSS = every stylesheet linked, print and theme included):",
        "",
        common.table(["page", "status", "HTML KB", "CSS KB", "JS KB", "total KB (goal < 30)", "goal"], wrows),
        "",
        f"Third-party requests (link/script/img/iframe/source/media src or href, CSS url()/@import to "
        f"another origin) over {len(weights)} pages: **{len(third_party)}** (goal 0)."
        + ("".join(f"\n- {p}: <{t}> {u}" for p, t, u in third_party) if third_party else ""),
    ]
    if problems:
        body += ["", "Problems: " + "; ".join(problems)]
    text = "\n".join(body)
    log("\n" + text + "\n")
    common.write_section("pages", "Pages against a bare Flask app (pages.py)", text)
    common.summary_line("pages", f"worst ratio to hello: public {worst.get('public', 0):.2f} (goal >= {GOAL_RATIO}), "
                                 f"form {worst.get('form', 0):.2f}, queue {worst.get('queue', 0):.2f} "
                                 f"(goal >= {GOAL_RATIO_FORM}): {'met' if met else 'missed'}; heaviest page "
                                 f"{max_weight / 1024:.1f} KB gz (goal < 30: {'met' if not heavy else 'missed'}); "
                                 f"third-party requests {len(third_party)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
