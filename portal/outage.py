"""The database is unavailable: a 503 page with the emergency numbers that also gives back, in form
fields the person can send again, everything the request carried.

Generic on purpose: it needs nothing from the view that failed (which may have failed before it could
load anything). The posted field names pick the form class they belong to, among every form of the
project, so labels, choices and types are the same words as on the page that was sent; values that
belong to no field of it ride along as hidden fields. Passwords and files are never sent back.
"""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_babel import gettext as _

log = logging.getLogger(__name__)

NEVER_ECHOED = {"csrf_token", "password", "new_password", "current_password"}
SKIPPED_TYPES = {"CSRFTokenField", "PasswordField", "FileField", "MultipleFileField", "SubmitField"}


def _all_form_classes():
    from . import forms  # noqa: F401  (imports the package, so that every form class is defined)
    from .forms import crip, report  # noqa: F401
    from .forms.base import BaseForm
    seen, out, todo = set(), [], [BaseForm]
    while todo:
        cls = todo.pop(0)
        for sub in cls.__subclasses__():
            if sub not in seen and not issubclass(sub, report.DeclaredForm):   # built per request: below
                seen.add(sub)
                out.append(sub)
                todo.append(sub)
    return out + report.declared_forms()


def _posted_names(form) -> set[str]:
    """Field names posted: "facts-0-what" counts for the field list "facts"."""
    return {name.split("-", 1)[0] for name in form.keys() if name not in NEVER_ECHOED}


def _field_names(cls) -> set[str]:
    return {name for name in dir(cls) if getattr(getattr(cls, name, None), "field_class", None) is not None}


def best_form_class(posted: set[str]):
    """The form class that holds the most posted names (ties: the one with fewest fields)."""
    best, best_key = None, None
    for cls in _all_form_classes():
        names = _field_names(cls)
        hits = len(posted & names)
        if not hits:
            continue
        key = (hits, -len(names))
        if best_key is None or key > best_key:
            best, best_key = cls, key
    return best


def _hidden_rest(form_obj) -> list[tuple[str, str]]:
    """Posted values that the rendered form does not show (buttons' actions, page state)."""
    shown = set()
    if form_obj is not None:
        for field in form_obj:
            shown.add(field.name)
            if field.type == "FieldList":
                for entry in field.entries:
                    shown.update(sub.name for sub in (entry.form if hasattr(entry, "form") else [entry]))
                    shown.add(entry.name)
    rest = []
    for name, value in request.form.items(multi=True):
        if name in NEVER_ECHOED or name in shown:
            continue
        rest.append((name, value))
    return rest


def _prepare(form_obj):
    """Select fields whose posted value is not one of their choices (choices filled by the view, e.g.
    communes) keep the value in a hidden field rather than showing a code."""
    hidden = []
    for field in list(form_obj):
        if field.type in ("SelectField",) and field.data not in (None, ""):
            values = {str(c[0]) for c in (field.choices or [])}
            if str(field.data) not in values:
                hidden.append((field.name, str(field.data)))
    return hidden


def render_unavailable(render_error):
    """The 503 answer: with the posted values when there are any, else the plain error page."""
    if request.method != "POST" or not (set(request.form.keys()) - NEVER_ECHOED or request.files):
        return render_error(503)
    try:
        posted = _posted_names(request.form)
        cls = best_form_class(posted)
        form_obj = cls(formdata=request.form, meta={"csrf": False}) if cls is not None else None
        hidden_selects = _prepare(form_obj) if form_obj is not None else []
        hidden = _hidden_rest(form_obj) + hidden_selects
        hidden_select_names = {n for n, _v in hidden_selects}
        from flask_wtf.csrf import generate_csrf
        body = render_template(
            "unavailable_form.html", status=503, title=_("The service is temporarily unavailable"),
            form=form_obj, hidden=hidden, hidden_select_names=hidden_select_names, skipped_types=SKIPPED_TYPES,
            action=request.full_path.rstrip("?"), csrf_token=generate_csrf(), files_lost=bool(request.files),
            sending=request.endpoint == "report.send")
    except Exception:   # never worse than the plain page with the numbers
        log.exception("could not render the typed values on the 503 page")
        return render_error(503)
    return body, 503, {"Retry-After": "30", "Cache-Control": "no-store"}
