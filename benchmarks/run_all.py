"""Run every benchmark, one after the other, and print a summary.

    python benchmarks/run_all.py [--quick] [--only pages,queue]

Each script replaces its own section of benchmarks/RESULTS.md; this one adds a summary section.
--quick is passed to every script (the whole run then takes a few minutes).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import common

SCRIPTS = ["pages", "render", "ratelimit", "send", "uploads", "queue", "faults", "pgfaults", "redisfaults", "slowclients"]
# A name that is not a script of its own: (script, extra arguments).
VARIANTS = {"pgfaults": ("faults", ["--postgres"]), "redisfaults": ("faults", ["--redis"])}
TIMEOUT = {"pages": 600, "render": 600, "ratelimit": 900, "send": 1800, "uploads": 600, "queue": 1800, "faults": 2400, "pgfaults": 400, "redisfaults": 300, "slowclients": 300}


def run(name: str, quick: bool) -> tuple[int, str, float]:
    script, extra = VARIANTS.get(name, (name, []))
    cmd = [sys.executable, str(Path(__file__).with_name(f"{script}.py")), *extra] + (["--quick"] if quick else [])
    common.log(f"\n=== {name}: {' '.join(cmd[1:])}")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=str(common.ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    found = []

    def pump():
        for line in proc.stdout:          # ends when the script exits
            if " INFO " in line and ("alembic" in line or "portal." in line):
                continue
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.startswith(f"SUMMARY {name}:"):
                found.append(line.split(":", 1)[1].strip())

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=TIMEOUT[name] * (0.5 if quick else 1))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)   # the script's own finally blocks stop its servers
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        rc = -1
        found.append("timed out")
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        raise
    reader.join(10)
    summary = found[-1] if found else ""
    return rc, summary or "(no summary line)", time.monotonic() - t0


def previous_rows() -> dict:
    if not common.RESULTS.exists():
        return {}
    text = common.RESULTS.read_text()
    start, end = text.find("<!-- BEGIN summary -->"), text.find("<!-- END summary -->")
    rows = {}
    if start >= 0 and end > start:
        for line in text[start:end].splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 5 and cells[0] in SCRIPTS:
                rows[cells[0]] = tuple(cells)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    ap.add_argument("--only", default="", help="comma-separated subset of " + ",".join(SCRIPTS))
    args = ap.parse_args(argv)
    names = [s for s in SCRIPTS if not args.only or s in args.only.split(",")]
    results = []
    for name in names:
        results.append((name, *run(name, args.quick)))
    when = time.strftime("%Y-%m-%d %H:%M")
    rows = [(name, "ok" if rc == 0 else f"exit {rc}", f"{secs:.0f} s", f"{when}{' (--quick)' if args.quick else ''}",
             summary) for name, rc, summary, secs in results]
    common.log("\n=== Summary\n" + common.table(["benchmark", "exit", "time", "run", "summary"], rows))
    # Rows of benchmarks not run this time are kept from the previous summary.
    kept = previous_rows()
    kept.update({row[0]: row for row in rows})
    text = common.table(["benchmark", "exit", "time", "run", "summary"],
                        [kept[name] for name in SCRIPTS if name in kept])
    common.write_section("summary", "Summary (run_all.py)",
                         text + "\n\nExit status 0 means the script ran and its checks of correctness passed; "
                                "goals met or missed are in each summary and section below.")
    return 0 if all(rc == 0 for _n, rc, _s, _t in results) else 1


if __name__ == "__main__":
    sys.exit(main())
