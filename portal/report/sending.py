"""Check-your-answers, sending, confirmation and its PDF copy."""
from __future__ import annotations

import logging
import time

from flask import abort, current_app, g, make_response, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..domain import attachments, codes, intake, keys, questionnaire, routing, sealing
from ..extensions import db
from ..forms import report as F
from ..models import InformationPreoccupante
from ..ratelimit import client_key, hit, refuse
from ..web import current_profile, now_utc, profiles
from . import bp, drafts
from .common import _draft_or_restart, _other_departement, _render_step, sayer

log = logging.getLogger(__name__)

# Check your answers and send -------------------------------------------------------------------

def _missing_steps(data) -> list:
    missing = []
    if not data.get("source_type"):
        missing.append(questionnaire.WHO)
    if not data.get("children"):
        missing.append(questionnaire.CHILD)
    if not data.get("concern"):
        missing.append(questionnaire.CONCERN)
    if data.get("source_type") == "professional" and not data.get("pro"):
        missing.append(questionnaire.PRO)
    if not data.get("sender"):
        missing.append(questionnaire.SENDER)
    return missing


@bp.get("/verifier")
def check():
    state, redirect_response = _draft_or_restart()
    if redirect_response:
        return redirect_response
    missing = _missing_steps(state.data)
    if missing:
        return redirect(url_for("report.step", step=missing[0], **({"n": 0} if missing[0] == questionnaire.CHILD else {})))
    return _check_page(state, F.SendForm())


def _check_page(state, form, status=None, files=None, **extra):
    """Check-your-answers: the report read back by the one summary, with a "Change" link per answer."""
    files = state.file_list() if files is None else files
    sections = questionnaire.summary(state.data, None, str(get_locale()),
                                     files=[meta["name"] for _fid, meta in files])
    return _render_step("report/check.html", status=status, state=state, sections=sections, form=form, **extra)


def _send_limit_key():
    return client_key()


@bp.post("/envoyer")
def send():
    state = drafts.load()
    if state is None:
        return redirect(url_for("report.start", expire=1))
    if _other_departement(state):
        return _other_departement(state)
    if state.sent:
        return redirect(url_for("report.confirmation"))
    form = F.SendForm()
    missing = _missing_steps(state.data)
    if missing:
        return redirect(url_for("report.check"))
    if not form.validate():
        return _check_page(state, form, status=400)
    if not hit("send", current_app.config["RATELIMIT_SEND"]):
        return refuse(_check_page(state, form, status=429, limited=True), "send", current_app.config["RATELIMIT_SEND"])
    automated = bool(form.website.data) or (
        time.time() - float(state.data.get("started_at", 0)) < current_app.config["FORM_MIN_SECONDS"])
    return _commit_send(state, automated)


def _commit_send(state, automated: bool):
    profile = profiles()[state.departement]
    session_ = db.session
    try:
        crip_key = keys.active_key(session_, profile.code)
        if crip_key is None:
            log.error("no active CRIP key for département %s: cannot accept IPs", profile.code)
            return _send_failed(state)
        # One file at a time: each is read, sealed and written before the next (bounded memory).
        files = (attachments.CheckedFile(meta["name"], meta["mime"], state.file_data(fid))
                 for fid, meta in state.file_list())
        receipt = intake.submit(
            session_, answers=_answers(state.data), files=files, received_by=profile.code,
            served=profiles(), crip_key=crip_key, secret_key=current_app.config["SECRET_KEY"],
            submission_token=state.row.submission_token, language=str(get_locale()),
            probably_automated=automated, now=now_utc())
        _notify_if_urgent(session_, receipt.ip_id, receipt.crip)
        state.row.ip_id = receipt.ip_id
        state.row.confirmation = sealing.encrypt_json(state.key, {
            "reference": receipt.reference, "code": receipt.code, "source_type": state.data.get("source_type"),
            "crip": receipt.crip, "routing": receipt.routing_status, "child_departement": receipt.departement,
            "answers": state.data if state.data.get("source_type") == "professional" else None,
            "files": [meta["name"] for _fid, meta in state.file_list()],
            "sent_at": now_utc().isoformat()})
        state.row.ciphertext = sealing.encrypt_json(state.key, {"sent": True})
        state.row.files.clear()
        state.row.updated_at = now_utc()
        session_.commit()
    except IntegrityError:
        # A concurrent post of the same draft won: show its confirmation.
        session_.rollback()
        session_.expire_all()
        g.pop("draft_state", None)
        again = drafts.load()
        if again is not None and again.sent:
            return redirect(url_for("report.confirmation"))
        return _send_failed(state)
    except (OperationalError, DBAPIError):
        session_.rollback()
        log.error("database unavailable while sending an IP")
        return _send_failed(state)
    log.info("IP received for %s (source=%s, automated=%s)", profile.code, state.data.get("source_type"), automated)
    return redirect(url_for("report.confirmation"), code=303)


def _notify_if_urgent(session_, ip_id, departement):
    """An immediate-urgency IP: tell the CRIP's staff by e-mail that something is waiting (no content)."""
    from ..domain import outbox
    ip = session_.get(InformationPreoccupante, ip_id)
    if ip.urgency == 1:
        outbox.notify_new_urgent(session_, ip, outbox.staff_recipients(session_, departement))


def _send_failed(state):
    return _check_page(state, F.SendForm(), status=503, failed=True, files=_safe_files(state))


def _safe_files(state):
    try:
        return state.file_list()
    except Exception:
        return []


def _answers(data) -> dict:
    """What is sent: the answers of every step of the declaration (the young person's "about" too)."""
    steps = questionnaire.STEPS.values()
    keep = {s.section for s in steps if s.section} | {q.key for s in steps if s.section is None for q in s.questions}
    return {k: data[k] for k in keep if k in data}


@bp.get("/confirmation")
def confirmation():
    state = drafts.load()
    conf = state.confirmation() if state is not None else None
    if conf is None:
        return redirect(url_for("report.start"))
    if _other_departement(state):
        return _other_departement(state)
    return render_template("report/confirmation.html", reference=conf["reference"],
                           code=codes.group(conf["code"]), source=conf.get("source_type"),
                           say=sayer(questionnaire.audience({"source_type": conf.get("source_type")})),
                           **_routing_words(conf))


def _routing_words(conf) -> dict:
    """Which CRIP reads the report, or which unserved département it will be forwarded to."""
    transfer = conf.get("routing") == routing.TRANSFER and conf.get("child_departement")
    return {"crip_profile": profiles().get(conf.get("crip") or ""),
            "transfer_to": (routing.departement_name(conf["child_departement"]) or conf["child_departement"])
            if transfer else None}


@bp.get("/confirmation/copie.pdf")
def confirmation_pdf():
    state = drafts.load()
    conf = state.confirmation() if state is not None else None
    if conf is None or not conf.get("answers"):
        abort(404)
    from datetime import datetime
    from .pdf import render_copy
    sent_at = datetime.fromisoformat(conf["sent_at"]) if conf.get("sent_at") else None
    pdf = render_copy(conf["reference"], conf["answers"], sent_at=sent_at, profile=current_profile(),
                      locale=str(get_locale()), gettext=_, files=conf.get("files"))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{conf["reference"]}.pdf"'
    return response


@bp.post("/terminer")
def finish():
    """Forget the confirmation in this browser (the IP itself is safe in the CRIP's queue)."""
    response = redirect(url_for("public.home"))
    drafts.clear_cookie(response)
    return response
