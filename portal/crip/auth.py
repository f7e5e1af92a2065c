"""Staff sessions: password then TOTP; the unwrapped CRIP key lives only in the session, encrypted."""
from __future__ import annotations

import time
from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for

from ..domain import audit, sealing, staff
from ..extensions import db
from ..models import StaffUser

SESSION = "staff"


def _box():
    return staff.session_key_box(current_app.config["SECRET_KEY"])


def start_session(user: StaffUser, crip_key: bytes | None, stage: str):
    session[SESSION] = {
        "uid": user.id, "epoch": user.session_epoch, "stage": stage, "seen": time.time(),
        "ck": sealing.encrypt(_box(), crip_key).hex() if crip_key else None,
    }


def end_session():
    session.pop(SESSION, None)


def current_user() -> StaffUser | None:
    if "staff_user" in g:
        return g.staff_user
    user = None
    data = session.get(SESSION)
    if data and data.get("stage") == "full":
        idle = current_app.config["STAFF_IDLE_TIMEOUT"]
        if time.time() - data.get("seen", 0) > idle:
            end_session()
        else:
            candidate = db.session.get(StaffUser, data.get("uid"))
            if candidate is not None and candidate.active and candidate.session_epoch == data.get("epoch"):
                user = candidate
                data["seen"] = time.time()
                session[SESSION] = data
            else:
                end_session()
    g.staff_user = user
    return user


def pending_user() -> StaffUser | None:
    data = session.get(SESSION)
    if not data or data.get("stage") not in ("password", "enrol"):
        return None
    if time.time() - data.get("seen", 0) > 600:
        end_session()
        return None
    user = db.session.get(StaffUser, data.get("uid"))
    if user is None or not user.active or user.session_epoch != data.get("epoch"):
        end_session()
        return None
    return user


def promote(stage: str = "full"):
    data = session.get(SESSION)
    data["stage"] = stage
    data["seen"] = time.time()
    session[SESSION] = data


def crip_key() -> bytes | None:
    data = session.get(SESSION) or {}
    if not data.get("ck"):
        return None
    try:
        return sealing.decrypt(_box(), bytes.fromhex(data["ck"]))
    except (sealing.SealError, ValueError):
        return None


def require(*roles):
    """Signed in with both factors, and one of `roles` (any role when empty)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("crip.signin", next=request.path))
            if roles and user.role not in roles:
                audit.record(db.session, actor_id=user.id, action="refused", target=request.path[:80])
                db.session.commit()
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
