"""The sender's follow-up pages: sign-in with reference and code, messages, sign-out."""
from __future__ import annotations

import time

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError

from ..domain import attachments, intake, sealing
from ..extensions import db
from ..forms import report as F
from ..formatting import file_size
from ..models import CripKey, InformationPreoccupante
from ..ratelimit import hit, refuse
from ..web import now_utc
from . import bp
from .common import _posting
from .files import ATTACHMENT_REASONS

# Follow-up ------------------------------------------------------------------------------------

FU_SESSION = "fu"


def _fu_box():
    from ..domain import staff
    return staff.session_key_box(current_app.config["SECRET_KEY"])


def _fu_access():
    """The follow-up session: the cookie holds the IP id, a nonce that must match the one stored
    server-side (cleared at sign-out), and the follow-up key encrypted with a server key."""
    data = session.get(FU_SESSION)
    if not data:
        return None
    if data.get("exp", 0) < time.time():
        session.pop(FU_SESSION, None)
        return None
    ip = db.session.get(InformationPreoccupante, data.get("ip"))
    nonce = data.get("n")
    if ip is None or ip.followup is None or not nonce or ip.followup.session_nonce != nonce:
        session.pop(FU_SESSION, None)
        return None
    try:
        sk = sealing.decrypt(_fu_box(), bytes.fromhex(data.get("k", "")))
    except (sealing.SealError, ValueError):
        session.pop(FU_SESSION, None)
        return None
    data["exp"] = time.time() + 20 * 60
    session[FU_SESSION] = data
    return ip, sk


@bp.route("/suivi", methods=["GET", "POST"])
def followup():
    form = F.FollowUpForm()
    error = None
    status = 200
    if _posting() and form.validate():
        limit = current_app.config["RATELIMIT_FOLLOWUP_CHECK"]
        if not hit("followup", limit):
            return refuse(render_template("report/followup_signin.html", form=form, limited=True), "followup", limit)
        # A reference with recent wrong codes is slowed down, never locked: its sender still gets in.
        wait = intake.followup_delay(db.session, reference=form.reference.data, now=now_utc(),
                                     free=current_app.config["FOLLOWUP_LOCK_AFTER"],
                                     base_ms=current_app.config["SIGNIN_DELAY_BASE_MS"],
                                     max_ms=current_app.config["SIGNIN_DELAY_MAX_MS"])
        if wait > 0:
            import time as _time
            _time.sleep(wait)
        try:
            access = intake.check_followup(
                db.session, reference=form.reference.data, code=form.code.data,
                secret_key=current_app.config["SECRET_KEY"], now=now_utc(),
                lock_after=current_app.config["FOLLOWUP_LOCK_AFTER"],
                lock_seconds=current_app.config["FOLLOWUP_LOCK_SECONDS"])
            db.session.commit()
        except intake.FollowUpLocked:
            db.session.rollback()
            access = None
        if access is not None:
            import secrets
            ip = db.session.get(InformationPreoccupante, access.ip_id)
            nonce = secrets.token_urlsafe(24)
            ip.followup.session_nonce = nonce
            db.session.commit()
            session[FU_SESSION] = {"ip": access.ip_id, "n": nonce, "exp": time.time() + 20 * 60,
                                   "k": sealing.encrypt(_fu_box(), access.private_key).hex()}
            from ..i18n import CODES
            if "lang" not in session and ip.contact_language in CODES:
                session["lang"] = ip.contact_language   # the follow-up page speaks the sender's language
            return redirect(url_for("report.followup_messages"), code=303)
        error = _("This reference and code do not match a report, or too many attempts were made. Check them and try again later.")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("report/followup_signin.html", form=form, error=error), status


@bp.route("/suivi/messages", methods=["GET", "POST"])
def followup_messages():
    found = _fu_access()
    if found is None:
        return redirect(url_for("report.followup"))
    ip, sk = found
    form = F.MessageForm()
    status = 200
    if request.method == "POST":
        limit = current_app.config["RATELIMIT_FOLLOWUP_MESSAGE"]
        if form.validate():
            if not hit("message", limit):
                messages = intake.sender_messages(ip, sk, now_utc())
                return refuse(render_template("report/followup.html", ip=ip, form=form, messages=messages,
                                              status=intake.coarse_status(ip.status), limited=True,
                                              **_followup_limits()), "message", limit)
            checked = _followup_files(form)
            if checked is None:
                messages = intake.sender_messages(ip, sk, now_utc())
                db.session.commit()
                return render_template("report/followup.html", ip=ip, form=form, messages=messages,
                                       status=intake.coarse_status(ip.status), **_followup_limits()), 400
            crip_key = db.session.get(CripKey, ip.crip_key_id)
            try:
                intake.post_sender_message(db.session, ip=ip, crip_public_key=crip_key.public_key,
                                           text=(form.body.data or "").strip(), now=now_utc(), files=checked)
                db.session.commit()
            except (OperationalError, DBAPIError):
                db.session.rollback()
                messages = []
                return render_template("report/followup.html", ip=ip, form=form, messages=messages,
                                       status=intake.coarse_status(ip.status), failed=True,
                                       **_followup_limits()), 503
            return redirect(url_for("report.followup_messages", envoye=1), code=303)
        status = 400
    messages = intake.sender_messages(ip, sk, now_utc())
    db.session.commit()
    return render_template("report/followup.html", ip=ip, form=form if status == 400 else F.MessageForm(formdata=None),
                           messages=messages, status=intake.coarse_status(ip.status),
                           sent=bool(request.args.get("envoye")), **_followup_limits()), status


def _followup_limits() -> dict:
    return {"max_files": current_app.config["ATTACHMENT_MAX_FILES"],
            "max_size": file_size(current_app.config["ATTACHMENT_MAX_BYTES"])}


def _followup_files(form):
    """Each file chosen on the follow-up page, checked like the report's own (same limits, same
    messages); None, with the reason on the form's file field, if one is refused (the text stays)."""
    c = current_app.config
    chosen = [f for f in (form.files.data or []) if getattr(f, "filename", "")]
    if len(chosen) > c["ATTACHMENT_MAX_FILES"]:
        form.files.errors = [ATTACHMENT_REASONS["too_many"]()]
        return None
    checked = []
    for upload in chosen:
        try:
            checked.append(attachments.check_upload(
                upload.filename, upload.stream, max_bytes=c["ATTACHMENT_MAX_BYTES"],
                memory_bytes=c["ATTACHMENT_CHECK_MEMORY_MB"] * 1024 * 1024, seconds=c["ATTACHMENT_CHECK_SECONDS"]))
        except attachments.AttachmentError as exc:
            form.files.errors = [ATTACHMENT_REASONS.get(exc.reason, ATTACHMENT_REASONS["type"])()]
            return None
    return checked


@bp.post("/suivi/fin")
def followup_signout():
    found = _fu_access()
    if found is not None:
        found[0].followup.session_nonce = None   # a copy of the cookie is dead from now on
        db.session.commit()
    session.pop(FU_SESSION, None)
    return redirect(url_for("report.followup"))
