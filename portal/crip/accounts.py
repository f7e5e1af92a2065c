"""Accounts: the administrator's list (create, deactivate, re-enable, reset a second factor), arrivals
approved by a colleague who holds the CRIP key, the first password of a new account, and everyone's
own settings. Every step is audited; see domain.enrolment for the key hand-over."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from .. import i18n
from ..domain import enrolment, staff
from ..extensions import db
from ..forms import crip as CF
from ..models import StaffUser
from ..web import profiles
from . import auth, bp, labels
from .auth import require
from .common import _audit

ENROLMENT_ERRORS = {
    "role": _l("Choose a role."), "email": _l("Enter a valid e-mail address."), "name": _l("Enter the name."),
    "territory": _l("A territorial evaluator needs a territory."),
    "exists": _l("An account already exists for this e-mail address."),
    "approver": _l("You cannot approve this account."),
    "not_waiting": _l("This account is not waiting for the key any more."),
    "no_key": _l("Your session does not hold the CRIP key: sign out and in again."),
    "weak": _l("Use 12 to 200 characters."), "not_first": _l("Your password is already set."),
}


def _target(user_id):
    admin = auth.current_user()
    target = db.session.get(StaffUser, user_id)
    if target is None or target.departement != admin.departement or target.id == admin.id:
        abort(404)
    return admin, target


def _account_form(admin):
    form = CF.AccountForm()
    form.role.choices = [("", _("Choose"))] + [(r, str(labels.ROLES[r])) for r in staff.ROLES]
    profile = profiles().get(admin.departement)
    form.territory.choices = [("", _("None"))] + [(t.code, t.name) for t in (profile.territories if profile else ())]
    return form


@bp.route("/comptes", methods=["GET", "POST"])
@require("admin")
def accounts():
    admin = auth.current_user()
    form = _account_form(admin)
    secret = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                user = enrolment.create_account(db.session, email=form.email.data, name=form.name.data,
                                                role=form.role.data, departement=admin.departement,
                                                territory=form.territory.data or None)
            except enrolment.EnrolmentError as exc:
                field = {"email": form.email, "exists": form.email, "name": form.name, "role": form.role,
                         "territory": form.territory}[exc.code]
                field.errors = [str(ENROLMENT_ERRORS[exc.code])]
                status = 400
            else:
                _audit("account_created", target=str(user.id), detail=user.role)
                secret = _enrolment_secret(user)
                db.session.commit()
                if secret is None:
                    flash(_("The account of %(name)s was created. A colleague who holds the CRIP key must now approve it under “Arrivals”.", name=user.name), "notice")
                    return redirect(url_for("crip.accounts"), code=303)
                form = _account_form(admin)
        else:
            status = 400
    _audit("accounts_view")
    db.session.commit()
    return _accounts_page(admin, form, secret), status


def _accounts_page(admin, form, secret):
    """The list of the département's accounts, the creation form, and a one-time secret to hand over."""
    users = list(db.session.scalars(select(StaffUser).where(StaffUser.departement == admin.departement)
                                    .order_by(StaffUser.active.desc(), StaffUser.name)))
    return render_template("crip/accounts.html", users=users, form=form, secret=secret, reads_ips=staff.READS_IPS)


def _enrolment_secret(user):
    """(user, one-time secret) for an account that does not read IPs (its first sign-in); None for
    one that does (a key holder approves it under "Arrivals")."""
    if user.role in staff.READS_IPS:
        return None
    secret = (user, enrolment.issue_secret(user))
    _audit("enrolment_secret_issued", target=str(user.id))
    return secret


def _change_account(user_id, change, action: str, notice):
    """An administrator's change to a colleague's account: made, audited, committed, then said
    (`notice(name)`) on the list of accounts."""
    _admin, target = _target(user_id)
    change(target)
    _audit(action, target=str(target.id))
    db.session.commit()
    flash(notice(target.name), "notice")
    return redirect(url_for("crip.accounts"), code=303)


@bp.post("/comptes/<id:user_id>/desactiver")
@require("admin")
def deactivate(user_id):
    return _change_account(user_id, staff.deactivate, "account_deactivated", lambda name: _(
        "The account of %(name)s is deactivated; its copy of the CRIP key was deleted.", name=name))


@bp.post("/comptes/<int:user_id>/reactiver")
@require("admin")
def reenable(user_id):
    admin, target = _target(user_id)
    if target.active:
        abort(404)
    enrolment.reenable(target)
    _audit("account_reenabled", target=str(target.id))
    secret = _enrolment_secret(target)
    db.session.commit()
    if secret:
        return _accounts_page(admin, _account_form(admin), secret)
    flash(_("The account of %(name)s is active again. A colleague who holds the CRIP key must approve it under “Arrivals”.", name=target.name), "notice")
    return redirect(url_for("crip.accounts"), code=303)


@bp.post("/comptes/<int:user_id>/second-facteur")
@require("admin")
def reset_second_factor(user_id):
    return _change_account(user_id, enrolment.reset_second_factor, "second_factor_reset", lambda name: _(
        "The second factor of %(name)s was reset: they will set up a new one at their next sign-in.", name=name))


@bp.get("/arrivees")
@require("agent", "supervisor", "evaluator")
def arrivals():
    user = auth.current_user()
    waiting = [u for u in enrolment.awaiting_key(db.session, user.departement) if u.id != user.id]
    return render_template("crip/arrivals.html", waiting=waiting, secret=None)


@bp.post("/arrivees/<int:user_id>/cle")
@require("agent", "supervisor", "evaluator")
def grant_key(user_id):
    """A key holder approves a new colleague: the key is wrapped to a one-time secret shown once."""
    holder = auth.current_user()
    target = db.session.get(StaffUser, user_id)
    if target is None or target.departement != holder.departement:
        abort(404)
    try:
        secret = enrolment.grant_key(target, auth.crip_key(), approver=holder)
    except enrolment.EnrolmentError as exc:
        db.session.rollback()
        flash(str(ENROLMENT_ERRORS.get(exc.code, ENROLMENT_ERRORS["not_waiting"])), "notice")
        return redirect(url_for("crip.arrivals"), code=303)
    _audit("key_granted", target=str(target.id))
    db.session.commit()
    waiting = [u for u in enrolment.awaiting_key(db.session, holder.departement) if u.id != holder.id]
    return render_template("crip/arrivals.html", waiting=waiting, secret=(target, secret))


@bp.route("/premier-mot-de-passe", methods=["GET", "POST"])
def first_password():
    """After signing in with the one-time secret: choose one's own password (re-wraps the key)."""
    user = auth.pending_user()
    if user is None or not user.password_must_change:
        return redirect(url_for("crip.signin"))
    form = CF.FirstPasswordForm()
    if request.method == "POST" and form.validate():
        try:
            enrolment.set_first_password(user, form.new.data, auth.crip_key())
        except enrolment.EnrolmentError as exc:
            form.new.errors = [str(ENROLMENT_ERRORS[exc.code])]
        else:
            _audit_as(user, "first_password_set")
            db.session.commit()
            return redirect(url_for("crip.second_factor" if user.totp_enrolled else "crip.enrol"), code=303)
    return render_template("crip/first_password.html", form=form), (400 if form.errors else 200)


def _audit_as(user, action):
    from ..domain import audit
    audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action=action, target=str(user.id))


@bp.route("/compte", methods=["GET", "POST"])
@require()
def my_account():
    """The signed-in person's own settings: the language of the back office (chosen once)."""
    user = auth.current_user()
    form = CF.LanguageForm()
    form.language.choices = [(code, name) for code, name, _d in i18n.LANGUAGES]
    if request.method == "GET":
        form.language.data = user.language or i18n.DEFAULT
    elif form.validate():
        user.language = form.language.data
        _audit("language_changed", detail=form.language.data)
        db.session.commit()
        flash(_("Your language is now %(name)s.", name=i18n.NAMES[user.language]), "notice")
        return redirect(url_for("crip.my_account"), code=303)
    return render_template("crip/my_account.html", form=form), (400 if form.errors else 200)
