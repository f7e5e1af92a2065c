"""Routing of informations préoccupantes (IP) to a département's CRIP and territory.

Plain Python, no Flask. The table is portal/data/communes.json.gz, built by
scripts/build_communes.py from the npm package @etalab/decoupage-administratif (INSEE's
Code officiel géographique with La Poste's postcodes); the package name and version used are in
portal/data/communes.VERSION and in DATA_SOURCE below (loaded lazily, once per process).

The table holds every current commune ("commune actuelle": metropolitan France, Corsica 2A/2B,
the overseas départements 971-976 and the overseas collectivities), plus the arrondissements
municipaux of Paris, Lyon and Marseille, which have their own postcodes and INSEE codes. Former
INSEE codes (merged communes, communes déléguées, Corsica's pre-1976 20xxx codes) are aliases:
`commune_by_insee()` returns the current commune for them.

Rules of `route(insee=..., postcode=..., served=...)`:

1. A known INSEE code (or an alias) wins: the IP goes to the commune's département.
   A postcode given alongside is only used to pick the territory, and only if it is one of the
   commune's postcodes.
2. Without a known INSEE code, the postcode decides. If all communes of the postcode lie in one
   département, the IP goes there. If they lie in several départements (e.g. 01590: Dortan in
   the Ain, Chancia and Lavancia-Epercy in the Jura), the result is "unrouted": the CRIP routes
   it by hand, or the form asks the person to choose the commune.
3. No known commune and no known postcode: "unrouted".
4. If the département is not served by this instance: "transfer" with that département and no
   territory (the CRIP forwards it to the département concerned).
5. If it is served, the territory is, in this order:
   a. the first territory listing the given postcode (the specific one the person typed);
   b. the territory listing the commune's postcodes, when exactly one territory lists any of
      them (a commune with several postcodes split between territories is not guessed);
   c. the first territory listing the commune's arrondissement (for a bare postcode: the
      arrondissement shared by all its communes, when they share one);
   d. the default territory (default=True, else the first one).
   The status is then "routed".
"""
from __future__ import annotations

import gzip
import json
import math
import re
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "communes.json.gz"

ROUTED, TRANSFER, UNROUTED = "routed", "transfer", "unrouted"

_POSTCODE = re.compile(r"[0-9]{5}")
_INSEE = re.compile(r"[0-9][0-9AB][0-9]{3}")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    departement: str
    arrondissement: str | None
    postcodes: tuple


@dataclass(frozen=True)
class Route:
    status: str                 # "routed", "transfer" or "unrouted"
    departement: str | None
    territory: str | None       # the territory's code, only when routed


class _Table:
    def __init__(self, raw: dict):
        self.source = raw["source"]
        cols = raw["communes"]
        self.communes = {}
        self.by_postcode = {}
        for insee, name, dep, arr, pcs in zip(cols["c"], cols["n"], cols["d"], cols["a"], cols["p"]):
            commune = Commune(insee, name, dep, arr or None, tuple(pcs.split()))
            self.communes[insee] = commune
            for pc in commune.postcodes:
                self.by_postcode.setdefault(pc, []).append(commune)
        for communes in self.by_postcode.values():
            communes.sort(key=_sort_key)
        self.departements = raw["departements"]
        self.arrondissements = raw.get("arrondissements", {})
        self.aliases = raw.get("aliases", {})
        self._search = None
        self._fuzzy = None
        self._lock = threading.Lock()

    def search_index(self):
        """(sorted keys, communes in the same order, [(word key, commune)] sorted) built once."""
        with self._lock:
            if self._search is None:
                rows, words = [], []
                for c in self.communes.values():
                    parts = _words(c.name)
                    order = (" ".join(parts), c.name, c.insee)
                    rows.append(("".join(parts), order, c))
                    for i in range(1, len(parts)):
                        words.append(("".join(parts[i:]), order, c))
                rows.sort(key=lambda r: r[:2])
                words.sort(key=lambda r: r[:2])
                self._search = ([k for k, _, _ in rows], [c for _, _, c in rows],
                                [k for k, _, _ in words], [c for _, _, c in words])
            return self._search

    def fuzzy_index(self):
        """((distinct name keys by length, their lengths), {key: communes}, {folded département
        name: code})
        built once, for the typo-tolerant search."""
        keys, communes, _words_keys, _word_communes = self.search_index()
        with self._lock:
            if self._fuzzy is None:
                by_key: dict = {}
                for k, c in zip(keys, communes):      # already in name order
                    by_key.setdefault(k, []).append(c)
                by_length = sorted(by_key, key=len)     # a length range is then one slice
                lengths = [len(k) for k in by_length]
                deps = {_key(name): code for code, name in self.departements.items()}
                self._fuzzy = ((by_length, lengths), by_key, deps)
            return self._fuzzy


_table: _Table | None = None
_table_lock = threading.Lock()


def _load() -> _Table:
    global _table
    if _table is None:
        with _table_lock:
            if _table is None:
                with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
                    _table = _Table(json.load(fh))
    return _table


def warm() -> None:
    """Load the table and build the search indexes now (the chooser calls it in the background at
    start-up, so that the first visitor does not wait for it)."""
    table = _load()
    table.search_index()
    table.fuzzy_index()


def data_source() -> dict:
    """{"package": "@etalab/decoupage-administratif", "version": "..."} of the loaded table."""
    return dict(_load().source)


# --- text normalisation ------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    words = [w for w in _NON_ALNUM.split(text) if w]
    # "St Gaudens" -> "saint gaudens"; not the last word, which may be a name being typed ("Ste"
    # on its way to "Stella-Plage").
    return [_ABBREVIATIONS.get(w, w) for w in words[:-1]] + words[-1:]


def _key(text: str) -> str:
    """Accent-, case-, hyphen-, space- and apostrophe-insensitive key: "Saint-Gaudens" ->
    "saintgaudens", "L'Isle-en-Dodon" -> "lisleendodon", "St Gaudens" -> "saintgaudens"."""
    return "".join(_words(text))


def _sort_key(c: Commune):
    return (" ".join(_words(c.name)), c.name, c.insee)


# --- look-ups ----------------------------------------------------------------------------------

def normalize_postcode(text) -> str | None:
    """"31 000" -> "31000"; None for anything that is not exactly five digits once spaces go."""
    if not isinstance(text, str):
        return None
    compact = "".join(text.split())
    return compact if _POSTCODE.fullmatch(compact) else None


def _normalize_insee(code) -> str | None:
    if not isinstance(code, str):
        return None
    compact = "".join(code.split()).upper()
    return compact if _INSEE.fullmatch(compact) else None


def communes_for_postcode(postcode) -> list[Commune]:
    """Communes served by a postcode, sorted by name; [] for an unknown or malformed one.
    A postcode can span départements (01590: Ain and Jura): all its communes are returned."""
    pc = normalize_postcode(postcode)
    if pc is None:
        return []
    return list(_load().by_postcode.get(pc, ()))


def commune_by_insee(code) -> Commune | None:
    """The commune with this INSEE code ("31555", "2a004" too). A former code (merged commune,
    commune déléguée, Corsica's 20xxx) gives the current commune, whose .insee then differs."""
    insee = _normalize_insee(code)
    if insee is None:
        return None
    table = _load()
    commune = table.communes.get(insee)
    if commune is None and insee in table.aliases:
        commune = table.communes.get(table.aliases[insee])
    return commune


def search_communes(text, limit: int = 20, *, fuzzy: bool = True) -> list[Commune]:
    """Communes whose name starts with text, ignoring case, accents, hyphens, spaces and
    apostrophes ("saint gaudens" finds Saint-Gaudens). Exact names come first, then the other
    prefix matches in name order; if there is room left, names with a later word starting with
    text ("gaudens" finds Saint-Gaudens). When nothing matches so (and `fuzzy`): names within a
    few typing mistakes of text ("Tolouse" finds Toulouse, "Grenobel" Grenoble), closest first."""
    if not isinstance(text, str) or limit <= 0:
        return []
    key = _key(text)
    if not key:
        return []
    keys, communes, word_keys, word_communes = _load().search_index()
    exact, prefix, seen = [], [], set()
    i = bisect_left(keys, key)
    while i < len(keys) and keys[i].startswith(key):
        (exact if keys[i] == key else prefix).append(communes[i])
        i += 1
    found = (exact + prefix)[:limit]
    seen.update(c.insee for c in found)
    i = bisect_left(word_keys, key)
    while len(found) < limit and i < len(word_keys) and word_keys[i].startswith(key):
        c = word_communes[i]
        if c.insee not in seen:
            seen.add(c.insee)
            found.append(c)
        i += 1
    if fuzzy and not found and len(key) >= FUZZY_MIN_LENGTH:
        for c in _fuzzy_communes(key, limit):
            if len(found) >= limit:
                break
            if c.insee not in seen:
                seen.add(c.insee)
                found.append(c)
    return found


FUZZY_MIN_LENGTH = 4     # shorter keys match too many names to be a useful guess
FUZZY_CUTOFF = 80        # rapidfuzz ratio (0-100): one or two typing mistakes in a name


def _fuzzy_communes(key: str, limit: int) -> list[Commune]:
    from rapidfuzz import fuzz, process
    by_length, by_key, _deps = _load().fuzzy_index()
    # A ratio of at least FUZZY_CUTOFF needs lengths within these bounds (2*min/(a+b) >= cutoff):
    # compare only those names.
    n, c = len(key), FUZZY_CUTOFF / 100
    low, high = math.ceil(n * c / (2 - c)), math.floor(n * (2 - c) / c)
    keys, lengths = by_length
    candidates = keys[bisect_left(lengths, low):bisect_left(lengths, high + 1)]
    matches = process.extract(key, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF,
                              limit=limit)
    matches.sort(key=lambda m: (-m[1], m[0]))
    out = []
    for name_key, _score, _index in matches:
        out.extend(by_key[name_key])
    return out[:limit]


def departement_exact(text) -> str | None:
    """The département whose code ("31", "2a", "975") or name (accents, case, hyphens ignored)
    is text; None otherwise."""
    if not isinstance(text, str):
        return None
    table = _load()
    code = "".join(text.split()).upper()
    if code in table.departements:
        return code
    key = _key(text)
    return table.fuzzy_index()[2].get(key) if key else None


def departements_like(text, limit: int = 3) -> list[str]:
    """Codes of the départements whose name is within a typing mistake of text
    ("Haute-Garone" -> ["31"]), closest first."""
    key = _key(text) if isinstance(text, str) else ""
    if len(key) < FUZZY_MIN_LENGTH:
        return []
    from rapidfuzz import fuzz, process
    deps = _load().fuzzy_index()[2]
    best = process.extract(key, list(deps), scorer=fuzz.ratio, score_cutoff=85, limit=limit)
    return [deps[k] for k, _s, _i in sorted(best, key=lambda m: (-m[1], m[0]))]


@dataclass(frozen=True)
class Lookup:
    """What a free-text answer to "where does the child live?" designates."""
    postcode: str | None            # set when the text was a postcode
    communes: tuple                 # communes of the postcode, or found by name
    departement: str | None         # a département named exactly (code or name)
    similar_departements: tuple     # départements whose name is close to the text
    key: str = ""                   # the text, folded as names are compared

    @property
    def exact_communes(self) -> tuple:
        """The communes of the postcode, or those whose name is exactly the text."""
        if self.postcode:
            return self.communes
        return tuple(c for c in self.communes if _key(c.name) == self.key)


def lookup(text, limit: int = 20) -> Lookup:
    """Read a postcode, a département (code or name) or a commune name (typos tolerated)."""
    text = text if isinstance(text, str) else ""
    pc = normalize_postcode(text)
    if pc:
        return Lookup(pc, tuple(communes_for_postcode(pc)), None, ())
    dep = departement_exact(text)
    if dep is not None and "".join(text.split()).upper() == dep:
        return Lookup(None, (), dep, ())       # a bare code: no commune search
    communes = search_communes(text, limit)
    similar = () if dep else tuple(departements_like(text))
    return Lookup(None, tuple(communes), dep, similar, _key(text))


# Overseas collectivities (and the uninhabited TAAF and Clipperton): child protection there follows
# their own rules, not the CASF procedure of the départements.
OWN_RULES = frozenset({"975", "977", "978", "984", "986", "987", "988", "989"})


def has_own_rules(departement: str | None) -> bool:
    return departement in OWN_RULES


def departement_name(code) -> str | None:
    if not isinstance(code, str):
        return None
    return _load().departements.get(code.strip().upper())


def arrondissement_name(code) -> str | None:
    """Name of an INSEE arrondissement ("313" -> "Toulouse")."""
    if not isinstance(code, str):
        return None
    return _load().arrondissements.get(code.strip().upper())


# --- routing -----------------------------------------------------------------------------------

def _territories(profile) -> tuple:
    return tuple(getattr(profile, "territories", ()) or ())


def _default_territory(territories):
    for t in territories:
        if getattr(t, "default", False):
            return t
    return territories[0] if territories else None


def _pick_territory(profile, *, postcode, arrondissement, commune_postcodes):
    territories = _territories(profile)
    if postcode:
        for t in territories:
            if postcode in tuple(t.postcodes or ()):
                return t
    if commune_postcodes:
        listing = [t for t in territories
                   if any(pc in tuple(t.postcodes or ()) for pc in commune_postcodes)]
        if len(listing) == 1:
            return listing[0]
    if arrondissement:
        for t in territories:
            if arrondissement in tuple(str(a) for a in (t.arrondissements or ())):
                return t
    return _default_territory(territories)


def _to(departement, served, **where) -> Route:
    profile = served.get(departement)
    if profile is None:
        return Route(TRANSFER, departement, None)
    territory = _pick_territory(profile, **where)
    return Route(ROUTED, departement, territory.code if territory is not None else None)


@dataclass(frozen=True)
class Destination:
    """Which CRIP's queue an IP goes to, given where the child lives and which site received it."""
    crip: str                   # the served département whose CRIP holds the IP (and whose key seals it)
    received_via: str | None    # the receiving site's département, when another CRIP holds the IP
    transfer_to: str | None     # an unserved département the CRIP must forward the IP to


def destination(where: Route, *, received_on: str, served: dict) -> Destination:
    """Between CRIPs of this instance: a child of another served département goes to that
    département's CRIP (the receiving site's département kept as "received via"); a child of an
    unserved département stays with the receiving CRIP, flagged for transfer (never refused); an
    unknown commune stays with the receiving CRIP, which routes it by hand."""
    if where.status == ROUTED and where.departement and where.departement != received_on \
            and where.departement in (served or {}):
        return Destination(where.departement, received_on, None)
    if where.status == TRANSFER:
        return Destination(received_on, None, where.departement)
    return Destination(received_on, None, None)


def route(*, insee: str | None, postcode: str | None, served: dict) -> Route:
    """Where an IP goes: see the module docstring for the rules."""
    served = served or {}
    pc = normalize_postcode(postcode)
    commune = commune_by_insee(insee) if insee else None
    if commune is not None:
        return _to(commune.departement, served,
                   postcode=pc if pc in commune.postcodes else None,
                   arrondissement=commune.arrondissement,
                   commune_postcodes=commune.postcodes)
    communes = communes_for_postcode(pc) if pc else []
    departements = {c.departement for c in communes}
    if len(departements) != 1:
        return Route(UNROUTED, None, None)
    arrondissements = {c.arrondissement for c in communes}
    return _to(departements.pop(), served,
               postcode=pc,
               arrondissement=arrondissements.pop() if len(arrondissements) == 1 else None,
               commune_postcodes=())
