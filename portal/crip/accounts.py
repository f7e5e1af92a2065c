"""Accounts of the département's staff (administrator)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import i18n
from ..domain import staff
from ..extensions import db
from ..forms import crip as CF
from ..models import StaffUser
from . import auth, bp
from .auth import require
from .common import _audit


@bp.get("/comptes")
@require("admin")
def accounts():
    user = auth.current_user()
    users = list(db.session.scalars(select(StaffUser).where(StaffUser.departement == user.departement).order_by(StaffUser.name)))
    _audit("accounts_view")
    db.session.commit()
    return render_template("crip/accounts.html", users=users)


@bp.post("/comptes/<id:user_id>/desactiver")
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
