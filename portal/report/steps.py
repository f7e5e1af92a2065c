"""The start of a report, and the one route of every step: the engine (engine.py) serves the steps of
questions; a step kind with a page of its own has a hook here (list, notice) or in files.py."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from ..domain import questionnaire
from ..ratelimit import hit, refuse
from ..web import current_profile
from . import bp, drafts, engine
from .common import MAX_CHILDREN, _draft_or_restart, _next_step, _posting, _render_step, retour_args
from .files import _documents

# Start ------------------------------------------------------------------------------------------

@bp.get("/")
def start():
    return render_template("report/start.html", expired=bool(request.args.get("expire")),
                           has_draft=drafts.load() is not None)


@bp.post("/commencer")
def begin():
    limit = current_app.config["RATELIMIT_FORM_STEP"]
    if not hit("step", limit):
        g.rate_limited = True
        return refuse(render_template("report/start.html", expired=False, has_draft=False), "step", limit)
    state = drafts.load()
    if state is not None and not state.sent and request.form.get("resume") == "1":
        return redirect(url_for("report.step", step=questionnaire.WHO))
    profile = current_profile()
    state, cookie = drafts.create(profile.code)
    response = redirect(url_for("report.step", step=questionnaire.WHO))
    drafts.set_cookie(response, cookie)
    return response

# Steps --------------------------------------------------------------------------------------------
@bp.route("/etape/<step>", methods=["GET", "POST"])
def step(step):
    declared = questionnaire.STEPS.get(step)
    if declared is None:
        abort(404)
    handler = HOOKS.get(declared.kind, engine.serve)
    state, redirect_response = _draft_or_restart()
    if redirect_response:
        return redirect_response
    if request.method == "POST" and not hit("step", current_app.config["RATELIMIT_FORM_STEP"]):
        g.rate_limited = True
        body = handler(declared, state)
        if isinstance(body, tuple):
            body = body[0]
        if not isinstance(body, str):   # a redirect: nothing typed to show again
            return body
        return refuse(body, "step", current_app.config["RATELIMIT_FORM_STEP"])
    return handler(declared, state)


def _children(step, state):
    """The "list" hook: the entries of a repeated step (the children), to change, remove or add to."""
    if step.slug not in questionnaire.steps_of(state.data):
        return redirect(_next_step(state.data, questionnaire.CHILD))
    children = state.data.get(step.section, [])
    if not children:
        return redirect(url_for("report.step", step=questionnaire.CHILD, n=0))
    if _posting():
        action = request.form.get("action", "")
        if action.startswith("remove-"):
            try:
                idx = int(action.split("-", 1)[1])
            except ValueError:
                abort(400)
            if 0 <= idx < len(children) and len(children) > 1:
                children.pop(idx)
                state.save()
            return redirect(url_for("report.step", step=step.slug, **retour_args()))
        if action == "add" and len(children) < MAX_CHILDREN:
            return redirect(url_for("report.step", step=questionnaire.CHILD, n=len(children)))
        return redirect(_next_step(state.data, step.slug))
    variant = questionnaire.audience(state.data)
    return _render_step("report/step_children.html", state=state, children=children, title=_(step.title_for(variant)),
                        intro=_(step.text("intro", variant)), add=_(step.text("more", variant)),
                        ages=[questionnaire.child_age_text(child, str(get_locale())) for child in children],
                        can_add=len(children) < MAX_CHILDREN)


def _emergency(step, state):
    """The "notice" hook: call now; then the report goes on where it was going."""
    variant = questionnaire.audience(state.data)
    return _render_step("report/emergency.html", state=state, next_url=_next_step(state.data, step.slug),
                        title=_(step.title_for(variant)), lead=_(step.text("notice", variant)),
                        after=_(step.text("intro", variant)))


HOOKS = {"list": _children, "notice": _emergency, "files": _documents}
