"""The queue: filters, keyset pages, counts, search by reference."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy import and_, func, or_, select

from ..domain import codes, queue, transfer, workflow
from ..domain.priority import AGE_BANDS, CATEGORIES, paris_date
from ..extensions import db
from ..models import InformationPreoccupante as IP, IpCategory
from ..web import now_utc, profiles
from . import auth, bp
from .auth import require
from .common import _audit, _visible


FILTERS = ("status", "territory", "urgency", "category", "source", "language", "age", "overdue",
           "transfer", "automated", "channel", "feedback")


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
    if f["source"] in ("public", "professional", "young", "elected"):
        cond.append(IP.source_type == f["source"])
    if f["language"]:
        cond.append(IP.language == f["language"][:8])
    if f["age"] in AGE_BANDS:
        cond.append(IP.youngest_age_band == f["age"])
    if f["overdue"]:
        cond.append(and_(IP.status.in_(workflow.OPEN), IP.evaluation_due < paris_date(now_utc())))
    if f["transfer"]:
        cond.append(IP.routing_status == "transfer")
    if f["automated"] == "1":
        cond.append(IP.probably_automated.is_(True))
    elif f["automated"] != "all":
        cond.append(IP.probably_automated.is_(False))
    if f["channel"]:
        cond.append(IP.channel == f["channel"][:12])
    feedback = queue.feedback_condition(f["feedback"], paris_date(now_utc()))
    if feedback is not None:
        cond.append(feedback)
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
        if ref and transfer.stub_of(db.session, ref, user.departement) is not None:
            return redirect(url_for("crip.transferred", reference=ref))
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
                           new_since=new_since, since=since, today=paris_date(now_utc()), crip_profile=profile,
                           categories=CATEGORIES, age_bands=AGE_BANDS, search=search,
                           not_found=bool(search))
