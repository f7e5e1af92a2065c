"""Accounts of the département's staff (administrator)."""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from sqlalchemy import select

from ..domain import staff
from ..extensions import db
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
