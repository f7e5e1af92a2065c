"""Sign-in, second factor, enrolment, sign-out and password change (engineer "custody")."""
from __future__ import annotations

import time

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..domain import audit, staff
from ..extensions import db
from ..forms import crip as CF
from ..ratelimit import client_key, count, hit, keyed, refuse
from ..web import now_utc
from . import auth, bp
from .auth import require


@bp.route("/connexion", methods=["GET", "POST"])
def signin():
    form = CF.SignInForm()
    error = None
    status = 200
    if request.method == "POST" and form.validate():
        email = form.email.data.strip().lower()
        c = current_app.config
        # Per address: an address making too many attempts is refused (only that address).
        if not hit("signin", c["RATELIMIT_SIGNIN_ADDRESS"]):
            return refuse(render_template("crip/signin.html", form=form, limited=True), "signin",
                          c["RATELIMIT_SIGNIN_ADDRESS"])
        # Per account: recent failures, from any address, slow every attempt on it down (the right
        # password too, never refused). Unknown accounts are counted and slowed the same way.
        account = keyed(email)
        delay = staff.throttle_delay(count("signin-fail", c["RATELIMIT_SIGNIN_ACCOUNT"], account),
                                     free=c["SIGNIN_FREE_FAILURES"], base_ms=c["SIGNIN_DELAY_BASE_MS"],
                                     max_ms=c["SIGNIN_DELAY_MAX_MS"])
        started = time.monotonic()
        result = staff.authenticate(db.session, email=email, password=form.password.data, now=now_utc())
        if result.user is None:
            hit("signin-fail", c["RATELIMIT_SIGNIN_ACCOUNT"], account)
        wait = delay - (time.monotonic() - started)
        if wait > 0:
            time.sleep(wait)
        if result.user is None:
            audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=None, action="signin_failed", detail=result.problem or "")
            db.session.commit()
            error = _("The e-mail address or the password is wrong.")   # one wording, whatever the reason
            status = 400
        else:
            db.session.commit()
            session.clear()
            auth.start_session(result.user, result.crip_key, "password" if result.user.totp_enrolled else "enrol")
            if result.user.password_must_change:      # signed in with a one-time enrolment secret
                return redirect(url_for("crip.first_password"))
            return redirect(url_for("crip.second_factor" if result.user.totp_enrolled else "crip.enrol"))
    elif request.method == "POST":
        status = 400
    return render_template("crip/signin.html", form=form, error=error), status


@bp.route("/connexion/code", methods=["GET", "POST"])
def second_factor():
    user = auth.pending_user()
    if user is None or not user.totp_enrolled:
        return redirect(url_for("crip.signin"))
    if user.password_must_change:
        return redirect(url_for("crip.first_password"))
    form = CF.CodeForm()
    error = None
    if request.method == "POST" and form.validate():
        crip_secret, legacy = current_app.config["CRIP_SECRET_KEY"], current_app.config["SECRET_KEY"]
        # Limited per account *and* address: guessing codes from elsewhere never blocks the owner.
        ok = hit("totp", current_app.config["RATELIMIT_SIGNIN_ACCOUNT"], keyed(f"{user.id}:{client_key()}")) and (
            staff.accept_totp(db.session, user, staff.open_totp_secret(user, crip_secret, legacy),
                              form.code.data, now_utc())
            or staff.use_recovery_code(crip_secret, user, form.code.data, legacy))
        if ok:
            auth.promote()
            audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="signin")
            db.session.commit()
            return redirect(url_for("crip.index"))
        user.failed_logins += 1
        audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="second_factor_failed")
        db.session.commit()
        error = _("This code is not valid. Codes change every 30 seconds.")
    return render_template("crip/code.html", form=form, error=error), (400 if error else 200)


@bp.route("/enrolement", methods=["GET", "POST"])
def enrol():
    user = auth.pending_user()
    if user is None or user.totp_enrolled:
        return redirect(url_for("crip.signin"))
    if user.password_must_change:
        return redirect(url_for("crip.first_password"))
    secret_key = current_app.config["CRIP_SECRET_KEY"]
    secret = auth.enrol_secret(staff.new_totp_secret)   # kept server-side, encrypted, never in a cookie
    form = CF.EnrolForm()
    error = None
    if request.method == "POST" and form.validate():
        step = staff.totp_step(secret, form.code.data, now_utc())
        if step is not None:
            user.totp_last_step = step   # the code that proved the enrolment is spent
            user.totp_secret = staff.encrypt_totp_secret(secret_key, secret)
            user.totp_enrolled = True
            recovery = staff.new_recovery_codes(secret_key, user)
            audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="totp_enrolled")
            auth.promote()
            db.session.commit()
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
        audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="signout")
        db.session.commit()
    auth.end_session()   # the server-side session is deleted: a copy of the cookie opens nothing
    session.clear()
    return redirect(url_for("crip.signin"))


@bp.post("/deconnexion-partout")
@require()
def signout_everywhere():
    user = auth.current_user()
    user.session_epoch += 1
    audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="signout_everywhere")
    db.session.commit()
    auth.end_all_sessions(user)
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
            audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="password_changed")
            db.session.commit()
            auth.end_all_sessions(user)
            session.clear()
            return redirect(url_for("crip.signin"))
    return render_template("crip/password.html", form=form, error=error), (400 if error else 200)
