"""What every back-office view shares: no caching, labels of statuses, the audit helper, visibility."""
from __future__ import annotations

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from .. import i18n
from ..domain import audit, codes, queue
from ..extensions import db
from ..languages import NAMES as LANGUAGE_NAMES
from ..models import InformationPreoccupante as IP
from ..web import profiles
from . import auth, bp, labels


def _staff_locale() -> str:
    """Staff choose their language once, in their account; French by default. `?lang=` shows one
    page in another language without changing the choice."""
    chosen = request.args.get("lang")
    if chosen in i18n.CODES:
        return chosen
    user = auth.current_user()
    if user is not None and user.language in i18n.CODES:
        return user.language
    return i18n.DEFAULT


i18n.AREA_SELECTORS["/crip"] = _staff_locale


@bp.before_request
def _private():
    g.no_store = True
    g.back_office = True


def _status_label(code):
    return labels.label(labels.STATUS, code)


@bp.app_context_processor
def _crip_globals():
    if not g.get("back_office"):
        return {"staff_user": None}
    user = auth.current_user()
    return {"status_label": _status_label, "transition_error": _transition_error, "staff_user": user,
            "staff_profile": profiles().get(user.departement) if user else None, "labels": labels,
            "label": labels.label, "languages_names": LANGUAGE_NAMES}


def _transition_error(code):
    fn = TRANSITION_ERRORS.get(code)
    return fn() if fn else _("Check the form and try again.")


def _audit(action, target="", detail=""):
    user = auth.current_user()
    audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id if user else None, action=action, target=target, detail=detail)


def _scope(user) -> queue.Scope:
    """What this person may see: their département; an evaluator only their team's IPs."""
    return queue.Scope(user.departement, user.territory, team_only=user.role == "evaluator")


def _visible(user):
    return _scope(user).conditions()


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
