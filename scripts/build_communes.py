#!/usr/bin/env python3
"""Build portal/data/communes.json.gz, the routing table, from @etalab/decoupage-administratif.

Usage (from the repository root, after `npm ci`):

    python scripts/build_communes.py [--package node_modules/@etalab/decoupage-administratif]
                                     [--out portal/data]

Reads the package's data/communes.json, data/departements.json and data/arrondissements.json
and writes two files:

* communes.json.gz: one gzipped JSON object (sorted keys, no whitespace, gzip mtime 0, so the
  same input always gives the same bytes):

      {"format": 1,
       "source": {"package": "@etalab/decoupage-administratif", "version": "6.0.0"},
       "communes": {            # columnar, one row per commune, rows sorted by INSEE code
           "c": ["01001", ...], # INSEE code
           "n": ["L'Abergement-Clémenciat", ...],
           "d": ["01", ...],    # département code
           "a": ["012", ...],   # INSEE arrondissement code, "" when none
           "p": ["01400", ...]  # postcodes, sorted, joined by a space ("" when none)
       },
       "departements": {"01": "Ain", ...},
       "arrondissements": {"011": "Belley", ...},
       "aliases": {"20004": "2A004", ...}}  # former INSEE code -> current INSEE code

  Rows are the communes of type "commune-actuelle" (every département, Corsica 2A/2B, the
  overseas départements 971-976 and the overseas collectivities, which the portal treats as
  "another authority") plus the "arrondissement-municipal" rows of Paris, Lyon and Marseille
  (75101..., 69381..., 13201...), which carry their own postcodes. Communes déléguées and
  associées are not rows: their codes, and the package's "anciensCodes", become aliases of the
  current commune, so an old INSEE code still routes to the right département.

* communes.VERSION: "<package name> <version>" read from the package's package.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGE = ROOT / "node_modules" / "@etalab" / "decoupage-administratif"
DEFAULT_OUT = ROOT / "portal" / "data"
KEPT_TYPES = ("commune-actuelle", "arrondissement-municipal")
FORMAT = 1


def _read_json(path: Path):
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def build(package_dir: Path) -> tuple[dict, str]:
    """Return (table, version line) for the package at package_dir."""
    meta = _read_json(package_dir / "package.json")
    data_dir = package_dir / "data"
    raw = _read_json(data_dir / "communes.json")
    departements = _read_json(data_dir / "departements.json")
    arrondissements = _read_json(data_dir / "arrondissements.json")

    rows = {}
    for item in raw:
        if item.get("type") not in KEPT_TYPES:
            continue
        if item["type"] == "arrondissement-municipal" and not item.get("codesPostaux"):
            continue
        code = item["code"]
        if code in rows:
            raise SystemExit(f"duplicate INSEE code {code} in communes.json")
        rows[code] = (
            item["nom"],
            item["departement"],
            item.get("arrondissement") or "",
            " ".join(sorted(set(item.get("codesPostaux") or ()))),
        )

    # Former codes -> current commune. anciensCodes first (the package's own mapping), then the
    # communes déléguées/associées whose code is not itself a current commune.
    aliases = {}
    for item in raw:
        if item.get("type") != "commune-actuelle":
            continue
        for old in item.get("anciensCodes") or ():
            if old not in rows and old not in aliases:
                aliases[old] = item["code"]
    for item in raw:
        if item.get("type") in ("commune-deleguee", "commune-associee"):
            old, new = item["code"], item.get("chefLieu")
            if new in rows and old not in rows and old not in aliases:
                aliases[old] = new

    codes = sorted(rows)
    table = {
        "format": FORMAT,
        "source": {"package": meta["name"], "version": meta["version"]},
        "communes": {
            "c": codes,
            "n": [rows[c][0] for c in codes],
            "d": [rows[c][1] for c in codes],
            "a": [rows[c][2] for c in codes],
            "p": [rows[c][3] for c in codes],
        },
        "departements": {d["code"]: d["nom"] for d in departements},
        "arrondissements": {a["code"]: a["nom"] for a in arrondissements},
        "aliases": aliases,
    }
    return table, f"{meta['name']} {meta['version']}\n"


def encode(table: dict) -> bytes:
    text = json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=DEFAULT_PACKAGE,
                        help="path to the installed @etalab/decoupage-administratif package")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    if not (args.package / "package.json").is_file():
        print(f"{args.package}: package not found (run `npm ci` first)", file=sys.stderr)
        return 1
    table, version = build(args.package)
    args.out.mkdir(parents=True, exist_ok=True)
    blob = encode(table)
    (args.out / "communes.json.gz").write_bytes(blob)
    (args.out / "communes.VERSION").write_text(version, encoding="utf-8")
    print(f"{len(table['communes']['c'])} communes, {len(table['aliases'])} aliases, "
          f"{len(blob)} bytes -> {args.out / 'communes.json.gz'} ({version.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
