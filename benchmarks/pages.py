"""Public pages: throughput against a bare Flask app under the same gunicorn settings, page weight,
third-party requests.

    python benchmarks/pages.py [--quick]

1. The home page and three information pages (/, /le-119, /information-preoccupante, /contacts),
   served by `gunicorn -w 2` (sync workers, production settings, limits in Redis), against
   benchmarks/hello_app.py under the very same gunicorn command. Both servers run side by side;
   the measurements alternate between them in rounds, and the median round counts, so that a
   load change on the machine hits both alike. Goal: portal requests/s >= 0.5 x hello requests/s.
   The server CPU time per request (read from /proc for the gunicorn processes) is printed too:
   it does not depend on how fast the load client itself is.
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

THROUGHPUT_PAGES = ["/", "/le-119", "/information-preoccupante", "/contacts"]
GOAL_RATIO = 0.5
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one short round (about 15 s)")
    ap.add_argument("--threads", type=int, default=4, help="load-client threads (default 4)")
    args = ap.parse_args(argv)
    rounds, seconds = (1, 2.0) if args.quick else (3, 5.0)

    from portal.public.views import PAGES
    weight_pages = ["/"] + [p for p, _t in PAGES.values()] + ["/signaler/", "/signaler/suivi"]

    with scratch_dir("bench-pages") as tmp:
        env = portal_env(tmp, sqlite_url(tmp))
        prepare_portal_db(env)
        with Gunicorn("benchmarks.hello_app:app", workers=2, name="hello") as hello, \
                Gunicorn("wsgi:app", workers=2, env=env, name="portal") as portal:
            log(f"hello on :{hello.port}, portal on :{portal.port}; {rounds} round(s) of {seconds:.0f} s per target, "
                f"{args.threads} client threads")
            targets = [("hello /", hello, "/")] + [(f"portal {p}", portal, p) for p in THROUGHPUT_PAGES]
            runs = {name: [] for name, _s, _p in targets}
            for r in range(rounds):
                for name, server, path in targets:
                    res = load(server.port, [path], threads=args.threads, duration=seconds, server=server,
                               warmup=0.5)
                    runs[name].append(res)
                    log(f"  round {r + 1} {name:34s} {res['rps']:8.1f} req/s  p50 {res['p50']:6.1f} ms  "
                        f"p95 {res['p95']:6.1f} ms  server CPU {res['cpu_ms_per_req']:.2f} ms/req  {res['statuses']}"
                        + (f"  errors {res['errors']}" if res["errors"] else ""))
            weights, third_party = weigh(portal.port, weight_pages)
            command = portal.command

    def med(name, key):
        return statistics.median(x[key] for x in runs[name])

    base_rps, base_cpu = med("hello /", "rps"), med("hello /", "cpu_ms_per_req")
    rows, ok_all, problems = [], True, []
    for name, _s, _path in targets:
        rps, cpu = med(name, "rps"), med(name, "cpu_ms_per_req")
        bad = sum(sum(c for s, c in x["statuses"].items() if s != 200) + x["errors"] for x in runs[name])
        if bad:
            problems.append(f"{name}: {bad} responses not 200 or failed")
        if name == "hello /":
            rows.append((name, f"{rps:.0f}", f"{med(name, 'p50'):.1f}", f"{med(name, 'p95'):.1f}", f"{cpu:.2f}",
                         "1.00 (baseline)", "", ""))
            continue
        ratio, cpu_ratio = rps / base_rps, base_cpu / cpu
        ok = ratio >= GOAL_RATIO
        ok_all &= ok
        rows.append((name, f"{rps:.0f}", f"{med(name, 'p50'):.1f}", f"{med(name, 'p95'):.1f}", f"{cpu:.2f}",
                     f"{ratio:.2f}", f"{cpu_ratio:.2f}", common.verdict(ok)))
    worst = min(med(n, "rps") for n, _s, _p in targets[1:]) / base_rps

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
        f"Servers: `{command}` (portal: PORTAL_ENV=production, limits in Redis, SQLite; "
        f"hello: `benchmarks.hello_app:app`, same command). {rounds} round(s) × {seconds:.0f} s per target, "
        f"{args.threads} client threads on the same machine; medians over rounds. "
        f"Translation catalogs compiled: {'yes' if common.catalogs_compiled() else 'no (.mo files absent: pages render the English msgids)'}.",
        "",
        common.table(["target", "req/s", "p50 ms", "p95 ms", "server CPU ms/req",
                      f"throughput ratio to hello (goal ≥ {GOAL_RATIO})", "CPU-cost ratio (hello/portal)", "goal"], rows),
        "",
        f"Worst page: **{worst:.2f}** × hello's throughput.",
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
    common.write_section("pages", "Public pages (pages.py)", text)
    common.summary_line("pages", f"worst page {worst:.2f}x hello throughput (goal >= {GOAL_RATIO}: "
                                 f"{'met' if worst >= GOAL_RATIO else 'missed'}); heaviest page "
                                 f"{max_weight / 1024:.1f} KB gz (goal < 30: {'met' if not heavy else 'missed'}); "
                                 f"third-party requests {len(third_party)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
