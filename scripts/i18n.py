#!/usr/bin/env python3
"""Translation catalogs in one command.

  python scripts/i18n.py update    extract every message (Python, templates, profiles) into
                                   portal/translations/messages.pot and update (or create) each catalog
  python scripts/i18n.py check     fail on any untranslated, fuzzy or obsolete message, any
                                   placeholder that differs from its message id, a catalog whose
                                   header lacks the review mark, or template text outside gettext
  python scripts/i18n.py compile   compile the .mo files
  python scripts/i18n.py export CODE OUT.json   the untranslated messages of one catalog, for a translator
  python scripts/i18n.py import CODE IN.json    fill that catalog from the translated file
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRANSLATIONS = ROOT / "portal" / "translations"
POT = TRANSLATIONS / "messages.pot"


def locales():
    from portal.i18n import CODES
    return CODES


def run(*args, quiet=False):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT,
                   capture_output=quiet)


REVIEW_MARK = "Reviewed by a native speaker:"


def mark_review(code: str, reviewed: bool | None = None) -> None:
    """Keep a line in the catalog's header comment saying whether a native speaker reviewed it."""
    po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    if REVIEW_MARK in text.split("msgid", 1)[0]:
        if reviewed is None:
            return
        text = re.sub(re.escape(REVIEW_MARK) + r" (yes|no)", f"{REVIEW_MARK} {'yes' if reviewed else 'no'}", text, count=1)
    else:
        value = "yes" if reviewed or (reviewed is None and code == SOURCE_LOCALE) else "no"
        text = f"# {REVIEW_MARK} {value}\n" + text
    po.write_text(text, encoding="utf-8")


SOURCE_LOCALE = "en"   # message ids are English: its catalog mirrors them


def fill_source_catalog():
    from babel.messages.pofile import read_po, write_po
    po = TRANSLATIONS / SOURCE_LOCALE / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        cat = read_po(fh, locale=SOURCE_LOCALE)
    cat.fuzzy = False
    for m in cat:
        empty = not any(m.string) if isinstance(m.string, (list, tuple)) else not m.string
        if m.id and empty:
            m.string = m.id
        m.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, cat, width=76)


def extract(target: Path, quiet=False) -> None:
    run("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2",
        "--add-comments", "Translators:", "--no-location", "--sort-output", "-o", str(target), "portal", quiet=quiet)


def check_pot_is_current() -> list[str]:
    """The committed template must hold exactly the messages the code uses now."""
    import tempfile
    from babel.messages.pofile import read_po
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        extract(fresh, quiet=True)
        with fresh.open("rb") as fh:
            now = {m.id for m in read_po(fh) if m.id}
    with POT.open("rb") as fh:
        committed = {m.id for m in read_po(fh) if m.id}
    # A template the extractor cannot parse (an unknown tag) is skipped silently: every literal
    # message a template passes to _() must have been extracted.
    literal = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*[,)]""")
    singulars = {m if isinstance(m, str) else m[0] for m in now}
    problems = []
    for path in sorted((ROOT / "portal" / "templates").rglob("*.html")):
        for match in literal.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if text not in singulars:
                problems.append(f"{path.relative_to(ROOT)}: {text[:60]!r} is not extracted "
                                "(does babel.cfg name every Jinja extension the templates use?)")
    problems += [f"messages.pot lacks {(m if isinstance(m, str) else m[0])[:60]!r} (run: python scripts/i18n.py update)"
                for m in sorted(now - committed, key=str)]
    problems += [f"messages.pot has an unused message {(m if isinstance(m, str) else m[0])[:60]!r} (run update)"
                 for m in sorted(committed - now, key=str)]
    return problems


def update():
    TRANSLATIONS.mkdir(exist_ok=True)
    extract(POT)
    for code in locales():
        po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", code, "--no-fuzzy-matching",
                "--ignore-obsolete")
        else:
            run("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", code)
    fill_source_catalog()
    for code in locales():
        mark_review(code)
        _drop_stray_marks(code)


def _drop_stray_marks(code):
    """Keep the review mark once, in the header comment; drop copies that drifted onto messages."""
    po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    head, sep, rest = po.read_text(encoding="utf-8").partition('msgid ""')
    rest = re.sub(r"^#\. ?" + re.escape(REVIEW_MARK) + r" (yes|no)\n|^# " + re.escape(REVIEW_MARK) + r" (yes|no)\n", "", rest, flags=re.M)
    po.write_text(head + sep + rest, encoding="utf-8")


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\{\s*\w+\s*\}\}")


def _placeholders(text: str):
    return sorted(PLACEHOLDER.findall(text) + re.findall(r"%\((\w+)\)", text))


def check_catalogs() -> list[str]:
    from babel.messages.pofile import read_po
    problems = []
    with POT.open("rb") as fh:
        template = read_po(fh)
    ids = {m.id for m in template if m.id}
    for code in locales():
        po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            problems.append(f"{code}: catalog missing")
            continue
        head = po.read_text(encoding="utf-8")[:4000]
        if REVIEW_MARK + " yes" not in head and REVIEW_MARK + " no" not in head:
            problems.append(f"{code}: header has no '{REVIEW_MARK} yes|no' line (python scripts/i18n.py mark)")
        with po.open("rb") as fh:
            cat = read_po(fh)
        seen = set()
        for m in cat:
            if not m.id:
                continue
            seen.add(m.id)
            mid = m.id if isinstance(m.id, str) else m.id[0]
            if m.id not in ids:
                problems.append(f"{code}: obsolete message {mid[:60]!r}")
                continue
            strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
            if not all(strings):
                problems.append(f"{code}: untranslated {mid[:60]!r}")
                continue
            if m.fuzzy:
                problems.append(f"{code}: fuzzy {mid[:60]!r}")
            want = _placeholders(mid)
            for s in strings:
                if _placeholders(s) != want:
                    problems.append(f"{code}: placeholders differ in {mid[:60]!r}: {s[:80]!r}")
        for missing in ids - seen:
            mid = missing if isinstance(missing, str) else missing[0]
            problems.append(f"{code}: message not in catalog {mid[:60]!r} (run update)")
    return problems


JINJA = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
ALLOWED_TEXT = re.compile(r"^[\s\d/–—:;.,()+·|•*«»\"'&;#-]*$|^&\w+;$")


def check_templates() -> list[str]:
    problems = []
    for path in sorted((ROOT / "portal" / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        stripped = JINJA.sub(" ", text)
        stripped = re.sub(r"<(script|style)\b.*?</\1>", " ", stripped, flags=re.S)
        stripped = TAG.sub("\n", stripped)
        for line in stripped.splitlines():
            line = line.strip()
            if line and not ALLOWED_TEXT.match(line) and re.search(r"[A-Za-zÀ-ÿ]{2,}", line):
                problems.append(f"{path.relative_to(ROOT)}: text outside gettext: {line[:70]!r}")
    return problems


def export_untranslated(code: str, out: Path) -> int:
    """Write the catalog's untranslated or fuzzy messages as JSON, for a translator to fill."""
    import json
    from babel.messages.pofile import read_po
    po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        cat = read_po(fh, locale=code)
    items = []
    for m in cat:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        if all(strings) and not m.fuzzy:
            continue
        item = {"id": m.id if isinstance(m.id, str) else list(m.id),
                "translation": "" if isinstance(m.id, str) else [""] * cat.num_plurals}
        notes = [c for c in m.auto_comments if c.strip()]
        if notes:
            item["note"] = " ".join(notes)
        if m.context:
            item["context"] = m.context
        items.append(item)
    out.write_text(json.dumps({"language": code, "plural_forms": cat.plural_forms, "messages": items},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    return len(items)


def import_translations(code: str, src: Path) -> int:
    """Fill the catalog from a JSON file written by `export` (entries with an empty translation are skipped)."""
    import json
    from babel.messages.pofile import read_po, write_po
    data = json.loads(src.read_text(encoding="utf-8"))
    po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        cat = read_po(fh, locale=code)
    done = 0
    for item in data["messages"]:
        key = item["id"] if isinstance(item["id"], str) else tuple(item["id"])
        m = cat.get(key, item.get("context"))
        value = item.get("translation")
        if m is None or not value or (isinstance(value, list) and not all(value)):
            continue
        m.string = value if isinstance(value, str) else tuple(value)
        m.flags.discard("fuzzy")
        done += 1
    with po.open("wb") as fh:
        write_po(fh, cat, width=76)
    mark_review(code)
    return done


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "update":
        update()
    elif cmd == "mark":
        # python scripts/i18n.py mark CODE yes|no
        mark_review(argv[2], argv[3] == "yes")
    elif cmd == "export":
        # python scripts/i18n.py export CODE OUT.json: the untranslated messages, for a translator
        print(f"{export_untranslated(argv[2], Path(argv[3]))} message(s) to translate")
    elif cmd == "import":
        # python scripts/i18n.py import CODE IN.json: fill the catalog from a filled export
        print(f"{import_translations(argv[2], Path(argv[3]))} message(s) imported")
    elif cmd == "compile":
        run("compile", "-d", str(TRANSLATIONS))
    elif cmd == "check":
        problems = check_templates() + check_pot_is_current() + check_catalogs()
        for p in problems[:200]:
            print(p)
        if problems:
            print(f"{len(problems)} translation problem(s)")
            return 1
        print(f"translations complete: {len(locales())} catalogs")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
