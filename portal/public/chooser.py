"""The département chooser (several départements served): / asks where the child lives.

The visitor types a commune (typos tolerated), a postcode or a département; the chooser goes
straight to a served département when the answer is unambiguous, asks which commune when a
postcode is shared between départements, and for a département this site does not serve names
it and says where to turn (the 119, its conseil départemental; overseas collectivities have their
own rules).
"""
from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass

from flask import abort, current_app, redirect, render_template, request, url_for

from ..domain import routing
from ..web import profiles

DEP_COOKIE = "dep"
MAX_QUERY = 100


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(text.replace("-", " ").replace("'", " ").split())


@dataclass(frozen=True)
class Place:
    """One answer shown to the visitor: a commune (or a whole département) and where it belongs."""
    departement: str
    departement_name: str
    commune: routing.Commune | None = None
    served: bool = False
    own_rules: bool = False

    @property
    def postcodes(self) -> str:
        if self.commune is None:
            return ""
        pcs = self.commune.postcodes
        return ", ".join(pcs[:3]) + (", …" if len(pcs) > 3 else "")


@dataclass(frozen=True)
class Outcome:
    kind: str                      # "go", "unserved", "which", "list", "nothing"
    place: Place | None = None     # "go" and "unserved"
    places: tuple = ()             # "which" and "list" (and other matches under "unserved")
    postcode: str | None = None


def place_of(departement: str, commune=None) -> Place:
    return Place(departement=departement,
                 departement_name=routing.departement_name(departement) or departement,
                 commune=commune, served=departement in profiles(),
                 own_rules=routing.has_own_rules(departement))


def _one(place: Place, others=()) -> Outcome:
    if place.served:
        return Outcome("go", place)
    return Outcome("unserved", place, tuple(p for p in others if p != place))


def decide(query: str) -> Outcome:
    """What to do with the visitor's answer (see the module docstring)."""
    found = routing.lookup(query)
    if found.postcode:
        places = tuple(place_of(c.departement, c) for c in found.communes)
        departements = {p.departement for p in places}
        if not places:
            return Outcome("nothing", postcode=found.postcode)
        if len(departements) == 1:
            return _one(place_of(places[0].departement), places)
        return Outcome("which", places=places, postcode=found.postcode)
    communes = tuple(place_of(c.departement, c) for c in found.communes)
    q = fold(query)
    partial = tuple(place_of(code) for code, p in profiles().items() if q and q in fold(p.name))
    if found.departement:
        exact = place_of(found.departement)
        if exact.served or not partial:
            return _one(exact, communes)
        # "Loire": the Loire is not served but Loire-Atlantique is: show both.
        return Outcome("unserved", exact, partial + communes)
    if len(partial) == 1:
        return Outcome("go", partial[0])
    exact_communes = [place_of(c.departement, c) for c in found.exact_communes]
    if len(exact_communes) == 1:
        return _one(exact_communes[0], communes)
    similar = tuple(place_of(code) for code in found.similar_departements)
    places = partial + similar + communes
    if len(places) == 1 and places[0].commune is None:
        return _one(places[0])
    return Outcome("list", places=places) if places else Outcome("nothing")


def _remember(response, code):
    response.set_cookie(DEP_COOKIE, code, max_age=180 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=current_app.config["HTTPS"])
    return response


def register_root(app):
    """With several départements, / asks which one; with one, / is its home page."""
    if not app.config["MULTI_DEPARTEMENT"]:
        app.add_url_rule("/choisir", "choose_departement", lambda: redirect(url_for("public.home")))
        return

    # The commune indexes take a second or two to build: build them now, beside start-up, rather
    # than during the first visitor's search.
    threading.Thread(target=routing.warm, name="commune-index", daemon=True).start()

    @app.get("/")
    def choose_departement():
        query = request.args.get("q", "").strip()[:MAX_QUERY]
        insee = request.args.get("commune", "").strip()[:10]
        chosen = request.cookies.get(DEP_COOKIE, "")
        if not query and not insee and not request.args.get("change") and chosen in profiles():
            return redirect(url_for("public.home", dep=chosen))
        outcome = None
        if insee:
            commune = routing.commune_by_insee(insee)
            outcome = _one(place_of(commune.departement, commune)) if commune else Outcome("nothing")
        elif query:
            outcome = decide(query)
        if outcome is not None and outcome.kind == "go":
            return _remember(redirect(url_for("public.home", dep=outcome.place.departement)),
                             outcome.place.departement)
        return render_template("public/choose.html", query=query, outcome=outcome,
                               all_profiles=sorted(profiles().values(), key=lambda p: p.code))

    @app.get("/<dep>/choisir")
    def remember_departement(dep):
        dep = dep.upper()
        if dep not in profiles():
            abort(404)
        return _remember(redirect(url_for("public.home", dep=dep)), dep)
