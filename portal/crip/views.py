"""CRIP back office: sign-in with a second factor, the queue, the case, decisions, messages, statistics."""
from __future__ import annotations

import io

from flask import (abort, current_app, g, make_response, redirect, render_template, request, send_file,
                   session, url_for)
from flask_babel import get_locale, gettext as _
from sqlalchemy import and_, func, or_, select

from ..domain import audit, codes, intake, queue, questionnaire, sealing, staff, workflow
from ..domain.priority import AGE_BANDS, CATEGORIES
from ..extensions import db
from ..forms import crip as CF
from ..forms.base import form_data
from ..models import Attachment, CripKey, InformationPreoccupante as IP, IpCategory, IpEvent, IpLink, StaffUser
from ..web import now_utc, profiles
from . import auth, bp
from .auth import require



@bp.before_request
def _private():
    g.no_store = True
    g.back_office = True


def _status_label(code):
    return {
        "new": _("New"), "analysis": _("In analysis"), "more_info": _("More information asked"),
        "evaluation": _("Evaluation under way"), "closed": _("Closed without further action"),
        "help": _("Administrative help proposed"), "signalement": _("Signalement to the procureur"),
        "transferred": _("Transferred to another département"), "linked": _("Linked to an existing IP"),
    }.get(code, code)


@bp.app_context_processor
def _crip_globals():
    return {"status_label": _status_label, "transition_error": _transition_error,
            "staff_user": auth.current_user() if g.get("back_office") else None}


def _transition_error(code):
    fn = TRANSITION_ERRORS.get(code)
    return fn() if fn else _("Check the form and try again.")


def _audit(action, target="", detail=""):
    user = auth.current_user()
    audit.record(db.session, actor_id=user.id if user else None, action=action, target=target, detail=detail)


# Sign-in ---------------------------------------------------------------------------------------

@bp.route("/connexion", methods=["GET", "POST"])
def signin():
    from ..ratelimit import hit, keyed, retry_after
    form = CF.SignInForm()
    error = None
    status = 200
    if request.method == "POST" and form.validate():
        email = form.email.data.strip().lower()
        c = current_app.config
        if not hit("signin", c["RATELIMIT_SIGNIN_ADDRESS"]) or not hit("signin-account", c["RATELIMIT_SIGNIN_ACCOUNT"], keyed(email)):
            response = make_response(render_template("crip/signin.html", form=form, limited=True), 429)
            response.headers["Retry-After"] = str(retry_after("signin", c["RATELIMIT_SIGNIN_ADDRESS"]))
            return response
        result = staff.authenticate(db.session, email=email, password=form.password.data, now=now_utc())
        if result.user is None:
            audit.record(db.session, actor_id=None, action="signin_failed", detail=result.problem or "")
            db.session.commit()
            error = (_("This account is locked for a while after too many failed attempts. Try again later or ask an administrator.")
                     if result.problem == "locked" else _("The e-mail address or the password is wrong."))
            status = 400
        else:
            db.session.commit()
            session.clear()
            auth.start_session(result.user, result.crip_key, "password" if result.user.totp_enrolled else "enrol")
            return redirect(url_for("crip.second_factor" if result.user.totp_enrolled else "crip.enrol"))
    elif request.method == "POST":
        status = 400
    return render_template("crip/signin.html", form=form, error=error), status


@bp.route("/connexion/code", methods=["GET", "POST"])
def second_factor():
    user = auth.pending_user()
    if user is None or not user.totp_enrolled:
        return redirect(url_for("crip.signin"))
    form = CF.CodeForm()
    error = None
    if request.method == "POST" and form.validate():
        from ..ratelimit import hit, keyed
        secret_key = current_app.config["SECRET_KEY"]
        ok = hit("totp", current_app.config["RATELIMIT_SIGNIN_ACCOUNT"], keyed(str(user.id))) and (
            staff.verify_totp(staff.decrypt_totp_secret(secret_key, user.totp_secret), form.code.data, now_utc())
            or staff.use_recovery_code(secret_key, user, form.code.data))
        if ok:
            auth.promote()
            audit.record(db.session, actor_id=user.id, action="signin")
            db.session.commit()
            return redirect(url_for("crip.index"))
        user.failed_logins += 1
        audit.record(db.session, actor_id=user.id, action="second_factor_failed")
        db.session.commit()
        error = _("This code is not valid. Codes change every 30 seconds.")
    return render_template("crip/code.html", form=form, error=error), (400 if error else 200)


@bp.route("/enrolement", methods=["GET", "POST"])
def enrol():
    user = auth.pending_user()
    if user is None or user.totp_enrolled:
        return redirect(url_for("crip.signin"))
    secret_key = current_app.config["SECRET_KEY"]
    secret = session.get("enrol_secret") or staff.new_totp_secret()
    session["enrol_secret"] = secret
    form = CF.EnrolForm()
    error = None
    if request.method == "POST" and form.validate():
        if staff.verify_totp(secret, form.code.data, now_utc()):
            user.totp_secret = staff.encrypt_totp_secret(secret_key, secret)
            user.totp_enrolled = True
            recovery = staff.new_recovery_codes(secret_key, user)
            audit.record(db.session, actor_id=user.id, action="totp_enrolled")
            db.session.commit()
            session.pop("enrol_secret", None)
            auth.promote()
            return render_template("crip/recovery_codes.html", codes=recovery)
        error = _("This code is not valid. Check the time on your phone and try again.")
    import segno
    uri = staff.provisioning_uri(secret, user.email, "CRIP " + user.departement)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return render_template("crip/enrol.html", form=form, error=error, qr=qr, secret=secret), (400 if error else 200)


@bp.post("/deconnexion")
def signout():
    user = auth.current_user()
    if user:
        audit.record(db.session, actor_id=user.id, action="signout")
        db.session.commit()
    session.clear()
    return redirect(url_for("crip.signin"))


@bp.post("/deconnexion-partout")
@require()
def signout_everywhere():
    user = auth.current_user()
    user.session_epoch += 1
    audit.record(db.session, actor_id=user.id, action="signout_everywhere")
    db.session.commit()
    session.clear()
    return redirect(url_for("crip.signin"))


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@require()
def password():
    user = auth.current_user()
    form = CF.PasswordChangeForm()
    error = None
    if request.method == "POST" and form.validate():
        try:
            staff.change_password(user, old_password=form.old.data, new_password=form.new.data,
                                  crip_key=auth.crip_key())
        except staff.StaffError:
            error = _("The current password is wrong, or the new one is too short (12 characters at least).")
        else:
            audit.record(db.session, actor_id=user.id, action="password_changed")
            db.session.commit()
            session.clear()
            return redirect(url_for("crip.signin"))
    return render_template("crip/password.html", form=form, error=error), (400 if error else 200)


# The queue -------------------------------------------------------------------------------------

FILTERS = ("status", "territory", "urgency", "category", "source", "language", "age", "overdue",
           "transfer", "automated", "channel")


def _visible(user):
    """What this person may see: their département; an evaluator only their team's IPs."""
    cond = [IP.received_by == user.departement]
    if user.role == "evaluator":
        cond.append(IP.assigned_team == user.territory)
    return cond


def _filters(args, user):
    cond = _visible(user)
    f = {k: args.get(k, "").strip() for k in FILTERS}
    if f["status"] == "open":
        cond.append(IP.status.in_(workflow.OPEN))
    elif f["status"] in workflow.STATUSES:
        cond.append(IP.status == f["status"])
    if f["territory"]:
        cond.append(or_(IP.territory == f["territory"], IP.assigned_team == f["territory"]))
    if f["urgency"] in ("1", "2", "3"):
        cond.append(IP.urgency == int(f["urgency"]))
    if f["category"] in CATEGORIES:
        cond.append(IP.id.in_(select(IpCategory.ip_id).where(IpCategory.category == f["category"])))
    if f["source"] in ("public", "professional", "young"):
        cond.append(IP.source_type == f["source"])
    if f["language"]:
        cond.append(IP.language == f["language"][:8])
    if f["age"] in AGE_BANDS:
        cond.append(IP.youngest_age_band == f["age"])
    if f["overdue"]:
        cond.append(and_(IP.status.in_(workflow.OPEN), IP.evaluation_due < now_utc().date()))
    if f["transfer"]:
        cond.append(IP.routing_status == "transfer")
    if f["automated"] == "1":
        cond.append(IP.probably_automated.is_(True))
    elif f["automated"] != "all":
        cond.append(IP.probably_automated.is_(False))
    if f["channel"]:
        cond.append(IP.channel == f["channel"][:12])
    return cond, f


@bp.get("/")
@require("agent", "supervisor", "evaluator")
def index():
    user = auth.current_user()
    cond, f = _filters(request.args, user)
    search = request.args.get("ref", "").strip()
    if search:
        ref = codes.normalize_reference(search)
        found = db.session.scalar(select(IP).where(IP.reference == ref, *_visible(user))) if ref else None
        if found:
            return redirect(url_for("crip.case", reference=found.reference))
    after = queue.parse_cursor(request.args.get("after", "")) if request.args.get("after") else None
    rows, more = queue.page(db.session, cond, after)
    # Only open IPs are counted (served by ix_ips_status): decided ones grow without end.
    counts = dict(db.session.execute(
        select(IP.status, func.count()).where(*_visible(user), IP.status.in_(workflow.OPEN))
        .group_by(IP.status)).all())
    since = user.last_queue_view_at
    new_since = db.session.scalar(select(func.count()).select_from(IP).where(
        *_visible(user), IP.received_at > since)) if since else None
    if not after:
        user.last_queue_view_at = now_utc()
    _audit("queue_view", detail=",".join(f"{k}={v}" for k, v in f.items() if v)[:400])
    db.session.commit()
    next_cursor = queue.cursor_of(rows[-1]) if more and rows else None
    profile = profiles().get(user.departement)
    return render_template("crip/queue.html", rows=rows, counts=counts, f=f, next_cursor=next_cursor,
                           new_since=new_since, since=since, today=now_utc().date(), crip_profile=profile,
                           categories=CATEGORIES, age_bands=AGE_BANDS, search=search,
                           not_found=bool(search))


# The case --------------------------------------------------------------------------------------

def _load_case(reference):
    user = auth.current_user()
    ref = codes.normalize_reference(reference)
    if ref is None:
        abort(404)
    ip = db.session.scalar(select(IP).where(IP.reference == ref, *_visible(user)))
    if ip is None:
        abort(404)
    return user, ip


def _key_or_403():
    key = auth.crip_key()
    if key is None:
        abort(403)
    return key


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
    sections = questionnaire.summary(dict(main, children=children), None, str(get_locale()))
    return render_template("crip/case.html", ip=ip, sections=sections, messages=messages,
                           history=history, links=links, files=files, form=form,
                           message_form=CF.StaffMessageForm(formdata=None), last_to_sender=last_to_sender,
                           today=now_utc().date(), error=request.args.get("erreur"))


TRANSITION_ERRORS = {
    "unknown_status": lambda: _("This status does not exist."),
    "not_allowed": lambda: _("This change of status is not possible from the current status."),
    "role": lambda: _("Your role does not allow this decision."),
    "reason": lambda: _("Give a reason for this decision."),
    "team": lambda: _("Choose the territory or team that evaluates."),
    "due": lambda: _("Give the evaluation due date."),
    "signalement_date": lambda: _("Give the date of the signalement."),
    "transfer_to": lambda: _("Give the département to transfer to."),
    "link": lambda: _("Give the reference of another IP of this CRIP."),
}


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


@bp.get("/ip/<reference>/piece/<int:attachment_id>")
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


# Accounts (administrator) ----------------------------------------------------------------------

@bp.get("/comptes")
@require("admin")
def accounts():
    user = auth.current_user()
    users = list(db.session.scalars(select(StaffUser).where(StaffUser.departement == user.departement).order_by(StaffUser.name)))
    _audit("accounts_view")
    db.session.commit()
    return render_template("crip/accounts.html", users=users)


@bp.post("/comptes/<int:user_id>/desactiver")
@require("admin")
def deactivate(user_id):
    admin = auth.current_user()
    target = db.session.get(StaffUser, user_id)
    if target is None or target.departement != admin.departement or target.id == admin.id:
        abort(404)
    staff.deactivate(target)
    _audit("account_deactivated", target=str(target.id))
    db.session.commit()
    return redirect(url_for("crip.accounts"), code=303)


# Statistics ------------------------------------------------------------------------------------

@bp.get("/statistiques")
@require("supervisor")
def statistics():
    from ..domain import statistics as stats
    user = auth.current_user()
    summary = stats.summary(db.session, user.departement)
    charts = []
    for key, title in (("by_month", _("IPs received per month")), ("by_source", _("By source")),
                       ("by_category", _("By category")), ("by_age_band", _("By age band of the youngest child")),
                       ("by_territory", _("By territory")), ("by_outcome", _("By outcome")),
                       ("by_channel", _("By channel"))):
        pairs = sorted(summary.get(key, {}).items())
        charts.append({"title": title, "pairs": pairs, "svg": stats.bar_chart_svg(str(title), pairs)})
    _audit("statistics_view")
    db.session.commit()
    return render_template("crip/statistics.html", charts=charts, summary=summary)


@bp.get("/statistiques.csv")
@require("supervisor")
def statistics_csv():
    import csv
    from ..domain import statistics as stats
    user = auth.current_user()
    out = io.StringIO()
    writer = None
    for row in stats.csv_rows(db.session, user.departement):
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row.keys()))
            writer.writeheader()
        writer.writerow(row)
    _audit("export", detail="statistics csv")
    db.session.commit()
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="ip-{user.departement}-anonymised.csv"'
    return response


# Recording an IP that came by phone, post, e-mail, the 119 or the parquet ------------------------

@bp.route("/saisie", methods=["GET", "POST"])
@require("agent", "supervisor")
def record():
    """The same structured questions as the public form, on one page, marked with the channel
    and who took it; sealed and queued the same way. The caller can be given a follow-up code."""
    from ..forms import report as RF
    from ..domain import keys, routing
    user = auth.current_user()
    head = CF.StaffIntakeForm(prefix="ip")
    child = RF.ChildForm(prefix="child")
    concern = RF.ConcernForm(prefix="concern")
    sender = RF.SenderForm(prefix="sender")
    pc = routing.normalize_postcode(child.postcode.data or "")
    communes = routing.communes_for_postcode(pc) if pc else []
    child.commune.choices = [("", _("Choose the commune"))] + [(c.insee, f"{c.name} ({c.departement})") for c in communes]
    if request.method == "POST":
        ok = all([head.validate(), child.validate(), concern.validate(), sender.validate()])
        if ok and len(communes) > 1 and child.commune.data not in {c.insee for c in communes}:
            child.commune.errors = [_("This postcode covers several communes: choose one.")]
            ok = False
        if ok:
            child_data = form_data(child)
            if len(communes) == 1:
                child_data["commune"] = communes[0].insee
            c = routing.commune_by_insee(child_data.get("commune")) if child_data.get("commune") else None
            child_data["commune_name"] = c.name if c else ""
            answers = {"source_type": head.source_type.data, "children": [child_data],
                       "concern": form_data(concern), "sender": form_data(sender),
                       "taken_by": user.name, "channel": head.channel.data}
            cfg = current_app.config
            receipt = intake.submit(
                db.session, answers=answers, files=[], received_by=user.departement, served=profiles(),
                crip_key=keys.active_key(db.session, user.departement), secret_key=cfg["SECRET_KEY"],
                submission_token=None, language=str(__import__("flask_babel").get_locale()),
                probably_automated=False, now=now_utc(), channel=head.channel.data,
                deadlines={"evaluation_days": cfg["EVALUATION_DAYS"], "evaluation_days_under_2": cfg["EVALUATION_DAYS_UNDER_2"],
                           "evaluation_days_urgent": cfg["EVALUATION_DAYS_URGENT"]})
            ip = db.session.get(IP, receipt.ip_id)
            ip.taken_by_id = user.id
            _audit("recorded", target=receipt.reference, detail=head.channel.data)
            db.session.commit()
            return render_template("crip/recorded.html", reference=receipt.reference, code=codes.group(receipt.code))
    return render_template("crip/record.html", head=head, child=child, concern=concern, sender=sender,
                           communes=communes), (400 if request.method == "POST" else 200)
