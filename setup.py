"""Build step: compile the translation catalogs (portal/translations/*/LC_MESSAGES/messages.po) into
.mo files with Babel's API, so the wheel carries them as package data. Everything else is in
pyproject.toml."""
from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = Path(__file__).resolve().parent / "portal" / "translations"


def compile_catalogs(source: Path, target: Path) -> list[str]:
    """Compile every SOURCE/<lang>/LC_MESSAGES/messages.po into the same place under TARGET."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        locale = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(str(mo))
    if not written:
        raise SystemExit(f"no translation catalog under {source}: the portal cannot be built without them")
    return written


class BuildWithCatalogs(build_py):
    """build_py, then the compiled catalogs next to their .po in the build (in place when editable)."""

    def run(self):
        super().run()
        target = CATALOGS if getattr(self, "editable_mode", False) else Path(self.build_lib) / "portal" / "translations"
        self._catalogs = compile_catalogs(CATALOGS, target)

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + list(getattr(self, "_catalogs", []))


setup(cmdclass={"build_py": BuildWithCatalogs})
