"""The case: reading an IP, changing its status, messages, attachments."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy import select

from ..domain import blindindex, codes, intake, questionnaire, routing, sealing, workflow
from ..domain.priority import paris_date
from ..extensions import db
from ..forms import crip as CF
from ..models import Attachment, CripKey, InformationPreoccupante as IP, IpChild, IpEvent, IpLink, StaffUser
from ..web import now_utc, profiles
from . import bp
from .auth import require
from .common import _audit, _key_or_403, _load_case, _status_label, _transition_error as transition_error, _visible


# The fields each change of status needs (and nothing else is shown for it); reopening a decided IP
# (to "analysis") needs a reason.
TARGET_FIELDS = {
    "analysis": (), "more_info": ("reason",), "evaluation": ("team", "due"),
    "closed": ("reason",), "help": ("reason",), "signalement": ("signalement_on", "reason"),
    "transferred": ("transfer_to", "reason"), "linked": ("linked_reference", "reason"),
}
GROUPS = (("work", ("analysis", "more_info", "evaluation")),
          ("decide", ("closed", "help", "signalement", "transferred", "linked")))
ERROR_FIELD = {"reason": "reason", "team": "team", "due": "due", "signalement_date": "signalement_on",
               "transfer_to": "transfer_to", "link": "linked_reference"}


def _fields_for(ip, target):
    if target == "analysis" and ip.status in workflow.DECIDED:
        return ("reason",)
    return TARGET_FIELDS.get(target, ())


def _transition_forms(ip, user, failed=None):
    """One small form per change this person may make now, grouped; `failed` = (target, form)."""
    profile = profiles().get(ip.received_by)
    teams = [("", _("Choose"))] + [(t.code, t.name) for t in (profile.territories if profile else ())]
    allowed = workflow.allowed_targets(ip.status, user.role)
    groups = []
    for name, targets in GROUPS + (("reopen", tuple(t for t in allowed if ip.status in workflow.DECIDED)),):
        items = []
        for target in targets:
            if target not in allowed or (name != "reopen" and ip.status in workflow.DECIDED):
                continue
            if failed and failed[0] == target:
                form = failed[1]
            else:
                form = CF.TransitionForm(prefix=target, formdata=None)
            form.team.choices = teams
            items.append({"to": target, "form": form, "fields": _fields_for(ip, target),
                          "open": bool(failed and failed[0] == target)})
        if items:
            groups.append((name, items))
    return groups


def _same_child(ip, children, key):
    """Store this IP's blind indexes (the key is at hand) and list the other IPs that share one."""
    hkey = blindindex.derive_key(key)
    for row, data in zip(ip.children, children):
        commune = data.get("commune_name")
        if not commune and data.get("commune"):
            c = routing.commune_by_insee(data["commune"])
            commune = c.name if c else ""
        row.child_index = blindindex.child_index(hkey, first_name=data.get("first_name"),
                                                 last_name=data.get("last_name"), birth_date=data.get("birth_date"))
        row.family_hint = blindindex.family_hint(hkey, last_name=data.get("last_name"), commune_name=commune)
    db.session.flush()
    strong = {r.child_index for r in ip.children if r.child_index}
    weak = {r.family_hint for r in ip.children if r.family_hint}

    def others(column, values):
        if not values:
            return []
        return list(db.session.scalars(
            select(IP).join(IpChild, IpChild.ip_id == IP.id)
            .where(column.in_(values), IP.id != ip.id, IP.received_by == ip.received_by)
            .distinct().order_by(IP.received_at.desc()).limit(20)))
    same = others(IpChild.child_index, strong)
    seen = {o.id for o in same}
    hints = [o for o in others(IpChild.family_hint, weak) if o.id not in seen]
    return same, hints


def _render_case(user, ip, *, failed=None, message_form=None, duty_failed=None, status=200):
    """The case page; a refused form comes back as typed, with its errors: `failed` = (target, form) of
    a change of status, `message_form`, `duty_failed` = (prefix, form) of a legal duty or the transfer
    (crip/duties.py)."""
    key = _key_or_403()
    try:
        main = sealing.open_json(key, ip.sealed)
        children = [sealing.open_json(key, c.sealed) for c in ip.children]
    except sealing.SealError:
        abort(403)
    now = now_utc()
    unread, earlier = [], []
    for m in ip.messages:
        try:
            body = sealing.open_json(key, m.sealed_for_crip)
        except sealing.SealError:
            body = {"text": "?"}
        item = {"direction": m.direction, "text": body.get("text", ""), "files": body.get("files", []),
                "at": m.created_at, "read_at": m.read_at,
                "unread": m.direction == "to_crip" and m.read_at is None}
        (unread if item["unread"] else earlier).append(item)
        if item["unread"]:
            m.read_at = now          # read from now on: the queue stops flagging it
    earlier.reverse()                # newest first, after the unread ones
    history = []
    for e in db.session.scalars(select(IpEvent).where(IpEvent.ip_id == ip.id).order_by(IpEvent.id)):
        reason = ""
        if e.reason_sealed:
            try:
                reason = sealing.open_json(key, e.reason_sealed).get("reason", "")
            except sealing.SealError:
                reason = "?"
        actor = db.session.get(StaffUser, e.actor_id) if e.actor_id else None
        history.append({"at": e.at, "from": e.from_status, "to": e.to_status, "reason": reason,
                        "actor": actor.name if actor else ""})
    links = list(db.session.scalars(select(IP).join(IpLink, IpLink.linked_ip_id == IP.id).where(IpLink.ip_id == ip.id)))
    same, hints = _same_child(ip, children, key)
    linked_ids = {link.id for link in links}
    files = []
    for a in ip.attachments:
        try:
            meta, _data = intake.open_attachment(key, a.sealed)
        except sealing.SealError:
            meta = {"name": "?"}
        files.append({"id": a.id, "name": meta.get("name"), "mime": a.mime, "size": a.size,
                      "added_at": a.created_at if a.message_id else None})   # added on the follow-up page
    profile = profiles().get(ip.received_by)
    territories = {t.code: t.name for t in (profile.territories if profile else ())}
    last_to_sender = next((m for m in earlier if m["direction"] == "to_sender"), None)
    _audit("view", target=ip.reference)
    db.session.commit()
    # The answers: one summary (portal/domain/questionnaire.py), rendered by the macro in macros/summary.html.
    sections = questionnaire.summary(dict(main, children=children), None, str(get_locale()), for_crip=True)
    return render_template(
        "crip/case.html", ip=ip, sections=sections, main=main, children=children, unread=unread, earlier=earlier,
        messages=unread + earlier, history=history, links=links, files=files,
        groups=_transition_forms(ip, user, failed) if user.role in ("agent", "supervisor") else [],
        message_form=message_form or CF.StaffMessageForm(formdata=None), last_to_sender=last_to_sender,
        same_child=[o for o in same if o.id not in linked_ids], family_hints=hints, territories=territories,
        failed_form=failed[1] if failed else None, duty_failed=duty_failed, today=paris_date(now),
        open_statuses=workflow.OPEN), status


@bp.get("/ip/<reference>")
@require("agent", "supervisor", "evaluator")
def case(reference):
    user, ip = _load_case(reference)
    return _render_case(user, ip)


@bp.post("/ip/<reference>/statut")
@require("agent", "supervisor")
def transition(reference):
    user, ip = _load_case(reference)
    target = request.form.get("to", "")
    if target not in workflow.STATUSES:
        abort(400)
    form = CF.TransitionForm(prefix=target)
    profile = profiles().get(ip.received_by)
    teams = tuple(t.code for t in (profile.territories if profile else ()))
    form.team.choices = [(t, t) for t in teams]
    form.validate()
    shown = _fields_for(ip, target)
    for field in form:           # what this change's form does not show is neither checked nor used
        if field.short_name not in shown and field.type != "CSRFTokenField":
            field.errors, field.data = [], None
    if any(field.errors for field in form):
        return _render_case(user, ip, failed=(target, form), status=400)
    linked = None
    if target == "linked":
        ref = codes.normalize_reference(form.linked_reference.data or "")
        linked = db.session.scalar(select(IP).where(IP.reference == ref, *_visible(user))) if ref else None
    crip_key = db.session.get(CripKey, ip.crip_key_id)
    before = ip.status
    try:
        workflow.apply(db.session, ip, workflow.Change(
            to=target, reason=form.reason.data or "", team=form.team.data or None, due=form.due.data,
            signalement_on=form.signalement_on.data, transfer_to=(form.transfer_to.data or "").upper() or None,
            linked_ip=linked), role=user.role, actor_id=user.id, crip_public_key=crip_key.public_key,
            now=now_utc(), teams=teams)
    except workflow.TransitionError as exc:
        db.session.rollback()
        user, ip = _load_case(reference)
        field = ERROR_FIELD.get(exc.code)
        form.team.choices = [(t, t) for t in teams]
        if field:
            getattr(form, field).errors = [transition_error(exc.code)]
        else:
            form.form_errors.append(transition_error(exc.code))
            # the summary links to this change's own form when the page still offers it
            form.error_anchor = f"action-{target}" if target in workflow.allowed_targets(ip.status, user.role) else "main"
        return _render_case(user, ip, failed=(target, form), status=400)
    if ip.taken_by_id is None:
        ip.taken_by_id = user.id          # "mine" in the queue from now on
    _audit("decision", target=ip.reference, detail=target)
    db.session.commit()
    flash(_("The status of %(ref)s is now “%(to)s” (it was “%(before)s”).", ref=ip.reference,
            to=_status_label(target), before=_status_label(before)), "notice")
    return redirect(url_for("crip.case", reference=ip.reference), code=303)


@bp.post("/ip/<reference>/message")
@require("agent", "supervisor")
def message(reference):
    user, ip = _load_case(reference)
    form = CF.StaffMessageForm()
    if not form.validate():
        return _render_case(user, ip, message_form=form, status=400)
    crip_key = db.session.get(CripKey, ip.crip_key_id)
    intake.post_crip_message(db.session, ip=ip, crip_public_key=crip_key.public_key, text=form.body.data,
                             author=user.name, now=now_utc())
    if ip.taken_by_id is None:
        ip.taken_by_id = user.id
    _audit("message", target=ip.reference)
    db.session.commit()
    flash(_("Your message was sent to the sender of %(ref)s. They read it with their follow-up code.",
            ref=ip.reference), "notice")
    return redirect(url_for("crip.case", reference=ip.reference) + "#messages", code=303)


@bp.get("/ip/<reference>/piece/<id:attachment_id>")
@require("agent", "supervisor", "evaluator")
def attachment(reference, attachment_id):
    user, ip = _load_case(reference)
    key = _key_or_403()
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.ip_id != ip.id:
        abort(404)
    meta, data = intake.open_attachment(key, att.sealed)
    _audit("download", target=ip.reference, detail=str(att.id))
    db.session.commit()
    response = send_file(io.BytesIO(data), mimetype="application/octet-stream", as_attachment=True,
                         download_name=meta.get("name", "piece"))
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
