"""Helpers shared by the report pages: the path through the steps, the draft, rendering a step."""
from __future__ import annotations

from datetime import date

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..domain import questionnaire
from ..forms.base import form_data
from ..web import current_profile
from . import bp, drafts

MAX_CHILDREN = questionnaire.MAX_CHILDREN


@bp.context_processor
def _declaration():
    return {"steps": questionnaire}


@bp.before_request
def _no_store():
    g.no_store = True   # form, confirmation and follow-up pages are never cached


def retour_args() -> dict:
    """Changing an answer from the check page goes back there: the query keeps saying so."""
    back = request.args.get("retour") == "verifier" or request.form.get("retour") == "verifier"
    return {"retour": "verifier"} if back else {}


def step_url(data, slug, **args) -> str:
    """A step's address; the child step opens the next free entry (or the only one)."""
    if slug == questionnaire.CHILD and "n" not in args:
        many = questionnaire.CHILDREN in questionnaire.steps_of(data)
        args["n"] = len(data.get("children", [])) if many else 0
    return url_for("report.step", step=slug, **args)


def _next_step(data, step, section=None) -> str:
    """Where "Continue" leads: a detour the step declares (call now), the check page when changing an
    answer, else the next step of the path."""
    detour = questionnaire.STEPS[step].then if step in questionnaire.STEPS else None
    if detour is not None and detour(section or {}):
        return step_url(data, detour(section or {}), **retour_args())
    if retour_args():
        return url_for("report.check")
    nxt = questionnaire.next_step(data, step)
    return url_for("report.check") if nxt is None else step_url(data, nxt)


def _draft_or_restart():
    state = drafts.load()
    if state is None:
        return None, redirect(url_for("report.start", expire=1))
    mismatch = _other_departement(state)
    if mismatch:
        return None, mismatch
    if state.sent:
        return None, redirect(url_for("report.confirmation"))
    return state, None


_store = form_data


def _load(form_class, stored: dict | None, **kwargs):
    """A form filled from the draft (GET) or from the request (POST)."""
    if request.method == "POST":
        return form_class(**kwargs)
    data = dict(stored or {})
    for key, value in list(data.items()):
        if isinstance(value, str) and key in ("birth_date",):
            try:
                data[key] = date.fromisoformat(value)
            except ValueError:
                data[key] = None
        if key == "facts" and isinstance(value, list):
            data[key] = [{"when": _date_or_none(f.get("when")), "what": f.get("what")} for f in value]
    return form_class(formdata=None, data=data, **kwargs)


def _date_or_none(text):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _other_departement(state):
    """A draft belongs to the département it was started for: on another one's pages, go back there."""
    profile = current_profile()
    if profile is not None and state.departement != profile.code:
        return redirect(url_for("report.start", dep=state.departement))
    return None


def _previous_step_url(data) -> str:
    """Where "Back" leads: the check page when changing an answer, else the step before this one."""
    if retour_args():
        return url_for("report.check")
    step = (request.view_args or {}).get("step")
    if step == questionnaire.CHILD and data.get("children") and questionnaire.CHILDREN in questionnaire.steps_of(data):
        return url_for("report.step", step=questionnaire.CHILDREN)
    before = questionnaire.previous_step(data, step)
    if before is None:
        return url_for("report.start")
    if before == questionnaire.CHILDREN and not data.get("children"):
        before = questionnaire.CHILD
    return step_url(data, before, **({"n": 0} if before == questionnaire.CHILD else {}))


def sayer(variant: str):
    """`say(msgid, **values)` for templates: the text in the words of the sender's path, translated."""
    return lambda msgid, **values: _(questionnaire.reworded(msgid, variant), **values)


def _render_step(template, status=None, **ctx):
    """Render a form page; a POST whose form has errors answers 400, unless `status` says otherwise."""
    state = ctx.get("state")
    data = state.data if state else {}
    ctx.setdefault("retour", request.args.get("retour") or request.form.get("retour"))
    ctx.setdefault("source", data.get("source_type") or "public")
    ctx.setdefault("back_url", _previous_step_url(data))
    ctx.setdefault("revealed_now", g.get("revealed_now", False))
    ctx.setdefault("conditions", {})
    ctx.setdefault("say", sayer(questionnaire.audience(data)))
    form = ctx.get("form")
    if status is None:
        status = 400 if request.method == "POST" and form is not None and form.errors else 200
    ctx.setdefault("has_errors", status == 400)
    step = (request.view_args or {}).get("step") if request.endpoint == "report.step" else None
    ctx.setdefault("step_counter", questionnaire.step_number(questionnaire.path_of(data), step))
    body = render_template(template, **ctx)
    return body, status


def _posting() -> bool:
    """A POST to act on: not when the rate limit refused it (the page then shows what was typed)."""
    return request.method == "POST" and not g.get("rate_limited")
