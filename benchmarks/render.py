#!/usr/bin/env python3
"""Time to first render in Chromium on a throttled mobile profile.

Each public page and the first form step, served by gunicorn (2 workers, production settings),
loaded in Debian's Chromium through Playwright at 360x740 with a slow mobile network (150 ms
latency, 1.6 Mbit/s down, 750 kbit/s up) and the CPU slowed 4 times (Chrome DevTools Protocol).
First contentful paint (FCP) is read from the page's own Performance API. Baseline, in the same
run and under the same throttling: the bare Flask "hello" app under the same gunicorn settings.

    python benchmarks/render.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys

import common
from common import Gunicorn, log, portal_env, prepare_portal_db, scratch_dir, sqlite_url, table

PAGES = ["/", "/le-119", "/information-preoccupante", "/apres-une-information-preoccupante", "/contacts",
         "/protection-de-l-enfance", "/signaler/", "/signaler/suivi"]
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}
CPU_SLOWDOWN = 4
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]


def fcp(browser, url: str) -> float:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", NETWORK)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(url, wait_until="load", timeout=60_000)
        value = page.evaluate(
            "() => { const e = performance.getEntriesByName('first-contentful-paint')[0];"
            " return e ? e.startTime : performance.timing.domContentLoadedEventEnd - performance.timing.navigationStart; }")
        return float(value)
    finally:
        ctx.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    runs = 2 if args.quick else 5
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log("playwright is not installed: pip install -e '.[test]'")
        return 2
    import os
    if not os.path.exists(CHROMIUM):
        log("Debian's Chromium is missing: apt-get install chromium")
        return 2
    with scratch_dir("render") as tmp:
        env = portal_env(tmp, sqlite_url(tmp))
        prepare_portal_db(env)
        with Gunicorn("wsgi:app", workers=2, env=env, name="portal") as portal, \
                Gunicorn("benchmarks.hello_app:app", workers=2, env=env, name="hello") as hello, \
                sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                base = f"http://127.0.0.1:{hello.port}/"
                baseline = statistics.median(fcp(browser, base) for _ in range(runs))
                log(f"  hello: FCP {baseline:.0f} ms")
                rows, worst = [], 0.0
                for path in PAGES:
                    values = [fcp(browser, f"http://127.0.0.1:{portal.port}{path}") for _ in range(runs)]
                    med = statistics.median(values)
                    worst = max(worst, med)
                    rows.append([path, f"{med:.0f}", f"{max(values):.0f}", f"{med / baseline:.2f}"])
                    log(f"  {path}: FCP median {med:.0f} ms (max {max(values):.0f})")
            finally:
                browser.close()
    body = (
        f"Chromium {CHROMIUM}, 360x740 mobile, network latency {NETWORK['latency']} ms, 1.6 Mbit/s down, "
        f"0.75 Mbit/s up, CPU slowed x{CPU_SLOWDOWN}; {runs} loads per page, each in a new context (cold cache). "
        f"Baseline: the bare hello app, FCP {baseline:.0f} ms.\n\n"
        + table(["page", "FCP median ms", "FCP max ms", "ratio to hello"], rows))
    summary = f"worst page FCP {worst:.0f} ms on a throttled mobile profile ({worst / baseline:.2f}x the bare hello page)"
    common.write_section("render", "Time to first render, throttled mobile (render.py)", body + f"\n\n{summary}\n")
    print(f"SUMMARY render: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
