#!/usr/bin/env bash
# Build the wheel, install it in a clean virtualenv outside the checkout and ask the installed portal
# for a French page at / and an Arabic right-to-left page at /?lang=ar. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" wheel --no-deps -q --disable-pip-version-check . -w "$work/dist" 2>&1 | { grep -v "is ignored" || true; }
wheel=$(ls "$work"/dist/portal-*.whl)
"$pip" install -q --no-compile --disable-pip-version-check "$wheel" 2>&1 | { grep -v "is ignored" || true; }
cd "$work"
env -i PATH="$work/venv/bin:/usr/bin:/bin" HOME="$work" PORTAL_INSTANCE_PATH="$work/instance" \
  "$work/venv/bin/flask" --app portal init-db
env -i PATH="$work/venv/bin:/usr/bin:/bin" HOME="$work" PORTAL_INSTANCE_PATH="$work/instance" REPO="$repo" \
  "$work/venv/bin/python" - <<'PY'
import os
import re

import portal
from portal import create_app

where = os.path.dirname(portal.__file__)
assert not where.startswith(os.environ["REPO"]), f"portal imported from the checkout: {where}"
client = create_app().test_client()
for path, lang, dir_, words in (("/", "fr", "ltr", "Aller au contenu principal"),
                                     ("/?lang=ar", "ar", "rtl", "انتقل إلى المحتوى الرئيسي")):
    r = client.get(path)   # no Accept-Language: French is the default
    body = r.get_data(as_text=True)
    m = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', body)
    assert r.status_code == 200 and m and m.groups() == (lang, dir_), (path, r.status_code, m and m.groups())
    assert words in body and "Skip to main content" not in body, f"{path}: the page is not in {lang}"
    print(f"wheel: {path} answers in {lang} ({dir_}) from {where}")
from portal.i18n import CODES, direction
for code in CODES:   # every language is compiled in: its page carries no English message id
    body = client.get(f"/?lang={code}").get_data(as_text=True)
    assert f'<html lang="{code}" dir="{direction(code)}"' in body, code
    assert code == "en" or "Skip to main content" not in body, f"{code}: English shown, catalog missing"
print(f"wheel: all {len(CODES)} languages served")
PY
