"""The interruption page and the form steps (who, children, adults, concern, professional, sender)."""
from __future__ import annotations


from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from ..domain import questionnaire, routing
from ..forms import report as F
from ..ratelimit import hit, refuse
from ..web import current_profile
from . import bp, drafts
from .common import MAX_CHILDREN, _draft_or_restart, _load, _next_step, _posting, _render_step, _store
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
    handlers = {questionnaire.WHO: _who, questionnaire.CHILD: _child, questionnaire.CHILDREN: _children, questionnaire.ADULTS: _adults,
                questionnaire.CONCERN: _concern, questionnaire.PRO: _professional, questionnaire.SENDER: _sender,
                questionnaire.FILES: _documents, questionnaire.URGENT: _emergency}
    handler = handlers.get(step)
    if handler is None:
        abort(404)
    state, redirect_response = _draft_or_restart()
    if redirect_response:
        return redirect_response
    if request.method == "POST" and not hit("step", current_app.config["RATELIMIT_FORM_STEP"]):
        g.rate_limited = True
        body = handler(state)
        if isinstance(body, tuple):
            body = body[0]
        if not isinstance(body, str):   # a redirect: nothing typed to show again
            return body
        return refuse(body, "step", current_app.config["RATELIMIT_FORM_STEP"])
    return handler(state)


def _who(state):
    form = _load(F.WhoForm, {"source_type": state.data.get("source_type"), "sector": state.data.get("sector")})
    if _posting() and _judge(form, questionnaire.WHO, state):
        state.data["source_type"] = form.source_type.data
        state.data["sector"] = form.sector.data if form.source_type.data == "professional" else ""
        state.save()
        return redirect(_next_step(state.data, questionnaire.WHO))
    return _render_step("report/step_who.html", form=form, state=state,
                        conditions=_conditions(questionnaire.WHO, state, form))


def _judge(form, step, state, section=None) -> bool:
    """Validate a step. A conditional question the sender has not seen yet (hidden when the page was
    sent, and no script showed it) is revealed on the page that comes back, not judged."""
    if form.validate():
        return True
    data = _store(form)
    answers = dict(state.data, **({section: data} if section else data))
    seen = set(request.form.getlist("revealed"))
    found = questionnaire.conditions(step, questionnaire.path_of(answers), data, answers)
    seen |= {watch for key, (_s, watch) in found.items() if watch and (request.form.get(key) or "").strip()}
    for key, (shown, watch) in found.items():
        if shown and watch and watch not in seen and key in form and form[key].errors:
            form[key].errors = []
            g.revealed_now = True
    form._errors = None
    return False


def _conditions(step, state, form, section=None) -> dict:
    data = _store(form) if request.method == "POST" else (state.data.get(section) if section else state.data) or {}
    answers = dict(state.data, **({section: data} if section else data))
    return questionnaire.conditions(step, questionnaire.path_of(answers), data, answers)


def _child_form_class(state):
    return F.YoungChildForm if state.data.get("source_type") == "young" else F.ChildForm


def _commune_choices(postcode):
    pc = routing.normalize_postcode(postcode or "")
    communes = routing.communes_for_postcode(pc) if pc else []
    choices = [("", _("Choose the commune"))] + [
        (c.insee, f"{c.name} ({c.departement})") for c in communes]
    return communes, choices


def _place_of_previous(children) -> dict | None:
    """A brother or sister most often lives at the same place: offer the previous child's commune."""
    if not children:
        return None
    last = children[-1]
    return {k: last.get(k) for k in ("postcode", "commune", "address", "lives_with") if last.get(k)}


def _child(state):
    children = state.data.setdefault("children", [])
    try:
        n = int(request.args.get("n", len(children)))
    except ValueError:
        abort(404)
    if n < 0 or n > len(children) or n >= MAX_CHILDREN:
        abort(404)
    form = _load(_child_form_class(state), children[n] if n < len(children) else _place_of_previous(children))
    communes, form.commune.choices = _commune_choices(form.postcode.data)
    lookup = request.method == "POST" and request.form.get("action") == "find_communes"
    if _posting() and not lookup:
        ok = form.validate()
        if ok and len(communes) > 1 and form.commune.data not in {c.insee for c in communes}:
            form.commune.errors = [_("This postcode covers several communes: choose one.")]
            ok = False
        if ok and form.commune.data and form.commune.data not in {c.insee for c in communes}:
            form.commune.data = ""
        if ok:
            data = _store(form)
            if len(communes) == 1:
                data["commune"] = communes[0].insee
            if data.get("postcode"):
                data["postcode"] = routing.normalize_postcode(data["postcode"])
            c = routing.commune_by_insee(data.get("commune")) if data.get("commune") else None
            data["commune_name"] = c.name if c else ""
            if n < len(children):
                children[n] = data
            else:
                children.append(data)
            state.save()
            if request.args.get("retour") == "verifier":
                return redirect(url_for("report.check"))
            return redirect(url_for("report.step", step=questionnaire.CHILDREN))
    return _render_step("report/step_child.html", form=form, state=state, n=n, communes=communes,
                        lookup=lookup, editing=n < len(children))


def _children(state):
    children = state.data.get("children", [])
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
            return redirect(url_for("report.step", step=questionnaire.CHILDREN, **({"retour": "verifier"} if request.form.get("retour") else {})))
        if action == "add" and len(children) < MAX_CHILDREN:
            return redirect(url_for("report.step", step=questionnaire.CHILD, n=len(children)))
        return redirect(_next_step(state.data, questionnaire.CHILDREN))
    return _render_step("report/step_children.html", state=state, children=children,
                        can_add=len(children) < MAX_CHILDREN)


def _adults(state):
    form = _load(F.AdultsForm, state.data.get("adults"))
    if _posting() and form.validate():
        state.data["adults"] = _store(form)
        state.save()
        return redirect(_next_step(state.data, questionnaire.ADULTS))
    return _render_step("report/step_adults.html", form=form, state=state)


def _concern(state):
    cls = {questionnaire.YOUNG: F.YoungConcernForm, questionnaire.PROFESSIONAL: F.ProfessionalConcernForm}.get(
        questionnaire.path_of(state.data), F.ConcernForm)
    form = _load(cls, state.data.get("concern"))
    if _posting() and form.validate():
        state.data["concern"] = _store(form)
        state.save()
        if form.danger_now.data == "yes":
            return redirect(url_for("report.step", step=questionnaire.URGENT, **({"retour": "verifier"} if request.form.get("retour") else {})))
        return redirect(_next_step(state.data, questionnaire.CONCERN))
    return _render_step("report/step_concern.html", form=form, state=state)


def _emergency(state):
    return _render_step("report/emergency.html", state=state,
                        next_url=_next_step(state.data, questionnaire.CONCERN))


def _professional(state):
    if state.data.get("source_type") != "professional":
        return redirect(url_for("report.step", step=questionnaire.WHO))
    form = _load(F.ProfessionalForm, state.data.get("pro"))
    action = request.form.get("action") if _posting() else None
    if action == "add_fact":
        if len(form.facts.entries) < form.facts.max_entries:
            form.facts.append_entry()
        state.data["pro"] = _store(form)   # keep what was typed, without judging it yet
        state.save()
        return _render_step("report/step_professional.html", form=form, state=state, focus_last_fact=True,
                            conditions=_conditions(questionnaire.PRO, state, form, "pro"))
    if _posting() and _judge(form, questionnaire.PRO, state, "pro"):
        state.data["pro"] = _store(form)
        state.save()
        return redirect(_next_step(state.data, questionnaire.PRO))
    return _render_step("report/step_professional.html", form=form, state=state,
                        conditions=_conditions(questionnaire.PRO, state, form, "pro"))


def _sender(state):
    if state.data.get("source_type") == "professional":
        form = _load(F.ProfessionalSenderForm, state.data.get("sender") or {"contact_language": str(get_locale())})
    else:
        stored = state.data.get("sender") or {"contact_language": str(get_locale())}
        if state.data.get("source_type") == "young" and "anonymous" not in stored:
            stored = dict(stored, anonymous="yes")
        if state.data.get("source_type") == questionnaire.ELECTED and "anonymous" not in stored:
            stored = dict(stored, anonymous="no")    # owed feedback (L226-5): named by default
        form = _load(F.SenderForm, stored)
    if _posting() and _judge(form, questionnaire.SENDER, state, "sender"):
        data = _store(form)
        if data.get("anonymous") == "yes":
            for k in ("name", "relation", "phone", "email"):
                data[k] = ""
        state.data["sender"] = data
        state.save()
        return redirect(_next_step(state.data, questionnaire.SENDER))
    return _render_step("report/step_sender.html", form=form, state=state,
                        conditions=_conditions(questionnaire.SENDER, state, form, "sender"))
