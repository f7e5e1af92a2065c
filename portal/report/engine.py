"""The step engine: one function serves any step of any path from the declaration
(portal/domain/questionnaire.py): the form, what is required and shown, the labels, the next step.
Two question kinds bring a small hook (the postcode's commune look-up, another dated fact); step
kinds with a page of their own (the list of children, the documents, the call-now notice) have one."""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

from flask import abort, g, redirect, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

from ..domain import questionnaire as Q, routing
from ..forms import report as F
from .common import _load, _next_step, _posting, _render_step, _store, retour_args

# The secondary button a question kind brings, after "Continue": (action, label).
ACTIONS = {"place": ("find_communes", _l("Find the communes for this postcode")),
           "facts": ("add_fact", _l("Add another fact"))}
BLANK = {"multi": [], "bool": False, "int": None, "date": None, "facts": []}


@dataclass
class Item:
    """A question as the page shows it."""
    q: Q.Question
    field: object
    optional: bool
    attrs: dict
    wrap: str | None = None         # the key whose condition shows it (data-shown-when), if any


@dataclass
class Block:
    """Consecutive items, in a fieldset when they have a box."""
    box: Q.Box | None
    legend: str | None = None
    hint: str | None = None
    anchor: str | None = None
    wrap: str | None = None
    items: list = dataclass_field(default_factory=list)


def serve(step: Q.Step, state):
    """Any step whose kind is "questions": ask, judge, keep, go on."""
    variant = Q.audience(state.data)
    if step.slug not in Q.steps_of(state.data):
        return redirect(url_for("report.step", step=Q.WHO))
    n, stored = _entry(step, state)
    form = _load(F.step_form(step, variant), _with_defaults(step, variant, stored)).with_answers(state.data)
    communes = _communes(form)
    action = request.form.get("action", "") if _posting() else ""
    if action == "add_fact" and "facts" in form:
        if len(form.facts.entries) < form.facts.max_entries:
            form.facts.append_entry()
        _keep(step, state, _store(form), n)    # what was typed is kept, without judging it yet
        return _page(step, variant, state, form, n, communes, focus_last_fact=True)
    if _posting() and action != "find_communes" and _judge(form, step, state) and _place_ok(form, communes):
        data = _finish(step, variant, form, state, communes)
        _keep(step, state, data, n)
        return redirect(_next_step(state.data, step.slug, data))
    return _page(step, variant, state, form, n, communes, lookup=action == "find_communes")


def _entry(step, state):
    """Which entry of a repeated step (the n-th child) and its stored answers."""
    if not step.repeated:
        return None, (state.data.get(step.section) if step.section else state.data)
    entries = state.data.setdefault(step.section, [])
    try:
        n = int(request.args.get("n", len(entries)))
    except ValueError:
        abort(404)
    most = Q.MAX_CHILDREN if Q.CHILDREN in Q.steps_of(state.data) else 1
    if n < 0 or n > len(entries) or n >= most:
        abort(404)
    return n, entries[n] if n < len(entries) else _place_of_previous(entries)


def _place_of_previous(children) -> dict | None:
    """A brother or sister most often lives at the same place: offer the previous child's commune."""
    if not children:
        return None
    last = children[-1]
    return {k: last.get(k) for k in ("postcode", "commune", "address", "lives_with") if last.get(k)}


def _with_defaults(step, variant, stored):
    stored = dict(stored or {})
    for q in step.asked(variant):
        default = q.text("default", variant)
        if default is not None and q.key not in stored:
            stored[q.key] = str(get_locale()) if default == Q.LOCALE else default
    return stored


def _judge(form, step, state) -> bool:
    """Validate a step. A conditional question the sender has not seen yet (hidden when the page was
    sent, and no script showed it) is revealed on the page that comes back, not judged."""
    if form.validate():
        return True
    data = _store(form)
    answers = form._context(data)
    seen = set(request.form.getlist("revealed"))
    found = Q.conditions(step.slug, Q.path_of(answers), data, answers)
    seen |= {watch for key, (_s, watch) in found.items() if watch and (request.form.get(key) or "").strip()}
    for key, (shown, watch) in found.items():
        if shown and watch and watch not in seen and key in form and form[key].errors:
            form[key].errors = []
            g.revealed_now = True
    form._errors = None
    return False


def _communes(form) -> list:
    """The "place" hook: the communes of the postcode typed, offered when there are several."""
    if "commune" not in form:
        return []
    pc = routing.normalize_postcode(form.postcode.data or "")
    communes = routing.communes_for_postcode(pc) if pc else []
    form.commune.choices = [("", _("Choose the commune"))] + [
        (c.insee, f"{c.name} ({c.departement})") for c in communes]
    return communes


def _place_ok(form, communes) -> bool:
    if "commune" not in form:
        return True
    insees = {c.insee for c in communes}
    if len(communes) > 1 and form.commune.data not in insees:
        form.commune.errors = [_("This postcode covers several communes: choose one.")]
        form._errors = None
        return False
    if form.commune.data and form.commune.data not in insees:
        form.commune.data = ""
    return True


def _finish(step, variant, form, state, communes) -> dict:
    """The answers to keep: what is not asked (its condition does not hold) is blanked."""
    data = _store(form)
    answers = form._context(data)
    for q in step.asked(variant):
        if not Q.is_shown(q, data, answers):
            data[q.key] = BLANK.get(q.kind, "")
    if "commune" in data:
        if len(communes) == 1:
            data["commune"] = communes[0].insee
        if data.get("postcode"):
            data["postcode"] = routing.normalize_postcode(data["postcode"])
        c = routing.commune_by_insee(data.get("commune")) if data.get("commune") else None
        data["commune_name"] = c.name if c else ""
    return data


def _keep(step, state, data, n):
    if step.section is None:
        state.data.update(data)
    elif step.repeated:
        entries = state.data.setdefault(step.section, [])
        if n < len(entries):
            entries[n] = data
        else:
            entries.append(data)
    else:
        state.data[step.section] = data
    if Q.CHILDREN not in Q.steps_of(state.data):      # now about themself: one child, the young person
        del state.data.setdefault("children", [])[1:]
    state.save()


def layout(step, variant, form, section, answers) -> list:
    """The page's blocks: consecutive questions of one box in one fieldset; a question whose condition
    is on the same page is there, hidden until it holds; one on an earlier page only when it holds."""
    blocks, watches = [], {}
    for q in step.asked(variant):
        shown, watch = Q.is_shown(q, section, answers), getattr(q.shown, "in_page", None)
        if not shown and not watch:
            continue
        if watch:
            watches[q.key] = watch
        item = Item(q, form[q.key], q.marked_optional(variant, section, answers), q.text("attrs", variant),
                    q.key if watch else None)
        if not blocks or q.box is None or blocks[-1].box is not q.box:
            box = q.box
            legend, hint = (box.text("legend", variant), box.text("hint", variant)) if box else (None, None)
            blocks.append(Block(box, legend=_(legend) if legend else None, hint=_(hint) if hint else None,
                                anchor=box and box.anchor))
        blocks[-1].items.append(item)
    for block in blocks:                # a box whose questions share one condition is shown as a whole
        keys = [item.wrap for item in block.items]
        if block.box is not None and all(keys) and len({watches[k] for k in keys}) == 1:
            block.wrap = keys[0]
            for item in block.items:
                item.wrap = None
    return blocks


def _page(step, variant, state, form, n, communes, **extra):
    data = _store(form)
    answers = form._context(data)
    title = _(step.title_for(variant)) if not n else _(step.text("more", variant), n=n + 1)
    blocks = layout(step, variant, form, data, answers)
    kinds = {item.q.kind: block for block in blocks for item in block.items}
    secondary = [(action, label, "facts" if kind == "facts" else kinds[kind].anchor)
                 for kind, (action, label) in ACTIONS.items() if kind in kinds]
    intro, notice = step.text("intro", variant), step.text("notice", variant)
    conditions = Q.conditions(step.slug, Q.path_of(answers), data, answers)
    wraps = [block.wrap for block in blocks] + [item.wrap for block in blocks for item in block.items]
    extra.setdefault("lookup", False)
    extra.setdefault("focus_last_fact", False)
    return _render_step(
        "report/step.html", form=form, state=state, step=step, n=n, title=title, blocks=blocks,
        intro=_(intro) if intro else None, notice=_(notice) if notice else None, communes=communes,
        all_optional=all(q.marked_optional(variant, data, answers) for q in step.asked(variant)),
        secondary=secondary, action_args=dict({"n": n} if step.repeated else {}, **retour_args()),
        conditions=conditions, revealed_at=next((k for k in wraps if k and conditions[k][0]), None), **extra)
