"""The case: reading an IP, changing its status, messages, attachments."""
from __future__ import annotations

import io

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy import select

from ..domain import codes, intake, questionnaire, sealing, workflow
from ..domain.priority import paris_date
from ..extensions import db
from ..forms import crip as CF
from ..models import Attachment, CripKey, InformationPreoccupante as IP, IpEvent, IpLink, StaffUser
from ..web import now_utc, profiles
from . import bp
from .auth import require
from .common import _audit, _key_or_403, _load_case, _status_label, _visible


@bp.get("/ip/<reference>")
@require("agent", "supervisor", "evaluator")
def case(reference):
    user, ip = _load_case(reference)
    key = _key_or_403()
    try:
        main = sealing.open_json(key, ip.sealed)
        children = [sealing.open_json(key, c.sealed) for c in ip.children]
    except sealing.SealError:
        abort(403)
    messages = []
    for m in ip.messages:
        try:
            body = sealing.open_json(key, m.sealed_for_crip)
        except sealing.SealError:
            body = {"text": "?"}
        messages.append({"direction": m.direction, "text": body.get("text", ""), "at": m.created_at, "read_at": m.read_at})
    events = list(db.session.scalars(select(IpEvent).where(IpEvent.ip_id == ip.id).order_by(IpEvent.id)))
    history = []
    for e in events:
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
    files = []
    for a in ip.attachments:
        try:
            meta, _data = intake.open_attachment(key, a.sealed)
        except sealing.SealError:
            meta = {"name": "?"}
        files.append({"id": a.id, "name": meta.get("name"), "mime": a.mime, "size": a.size})
    form = CF.TransitionForm()
    form.to.choices = [(s, _status_label(s)) for s in workflow.allowed_targets(ip.status, user.role)]
    profile = profiles().get(ip.received_by)
    form.team.choices = [("", _("Choose"))] + [(t.code, t.name) for t in (profile.territories if profile else ())]
    last_to_sender = next((m for m in reversed(messages) if m["direction"] == "to_sender"), None)
    _audit("view", target=ip.reference)
    db.session.commit()
    # The answers: one summary (portal/domain/questionnaire.py), rendered by the macro in macros/summary.html.
    sections = questionnaire.summary(dict(main, children=children), None, str(get_locale()))
    return render_template("crip/case.html", ip=ip, sections=sections, messages=messages,
                           history=history, links=links, files=files, form=form,
                           message_form=CF.StaffMessageForm(formdata=None), last_to_sender=last_to_sender,
                           today=paris_date(now_utc()), error=request.args.get("erreur"))


@bp.post("/ip/<reference>/statut")
@require("agent", "supervisor")
def transition(reference):
    user, ip = _load_case(reference)
    form = CF.TransitionForm()
    form.to.choices = [(s, s) for s in workflow.STATUSES]
    profile = profiles().get(ip.received_by)
    form.team.choices = [(t.code, t.name) for t in (profile.territories if profile else ())]
    if not form.validate():
        return redirect(url_for("crip.case", reference=ip.reference, erreur="form"))
    linked = None
    if form.to.data == "linked":
        ref = codes.normalize_reference(form.linked_reference.data or "")
        linked = db.session.scalar(select(IP).where(IP.reference == ref, *_visible(user))) if ref else None
    crip_key = db.session.get(CripKey, ip.crip_key_id)
    try:
        workflow.apply(db.session, ip, workflow.Change(
            to=form.to.data, reason=form.reason.data or "", team=form.team.data or None, due=form.due.data,
            signalement_on=form.signalement_on.data, transfer_to=(form.transfer_to.data or "").upper() or None,
            linked_ip=linked), role=user.role, actor_id=user.id, crip_public_key=crip_key.public_key,
            now=now_utc(), teams=tuple(t.code for t in (profile.territories if profile else ())))
    except workflow.TransitionError as exc:
        db.session.rollback()
        return redirect(url_for("crip.case", reference=ip.reference, erreur=exc.code))
    _audit("decision", target=ip.reference, detail=form.to.data)
    db.session.commit()
    return redirect(url_for("crip.case", reference=ip.reference), code=303)


@bp.post("/ip/<reference>/message")
@require("agent", "supervisor")
def message(reference):
    user, ip = _load_case(reference)
    form = CF.StaffMessageForm()
    if not form.validate():
        return redirect(url_for("crip.case", reference=ip.reference, erreur="message"))
    crip_key = db.session.get(CripKey, ip.crip_key_id)
    intake.post_crip_message(db.session, ip=ip, crip_public_key=crip_key.public_key, text=form.body.data,
                             author=user.name, now=now_utc())
    _audit("message", target=ip.reference)
    db.session.commit()
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
