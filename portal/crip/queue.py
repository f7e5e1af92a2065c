"""The queue as the agent's desk: the common filters one click away with their counts, the others
folded; rows in words; unread messages from senders marked; keyset pages; search by reference."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, ngettext
from markupsafe import Markup
from sqlalchemy import or_, select

from ..domain import codes, queue, routing, sealing, transfer, workflow
from ..domain.priority import AGE_BANDS, CATEGORIES, paris_date
from ..extensions import db
from ..models import InformationPreoccupante as IP, IpCategory, IpChild
from ..web import now_utc, profiles
from . import auth, bp, labels
from .auth import require
from .common import _audit, _visible

FILTERS = ("view", "status", "territory", "urgency", "category", "source", "language", "age", "automated",
           "channel", "feedback")


def _filters(args, user, today):
    cond = _visible(user)
    f = {k: args.get(k, "").strip() for k in FILTERS}
    if f["view"] not in queue.VIEWS:
        f["view"] = "open"
    cond += queue.view_conditions(f["view"], user_id=user.id, today=today)
    if f["status"] in workflow.STATUSES:
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
    if f["automated"] == "hide":          # shown by default, tagged: never hidden silently
        cond.append(IP.probably_automated.is_(False))
    if f["channel"]:
        cond.append(IP.channel == f["channel"][:12])
    feedback = queue.feedback_condition(f["feedback"], today)
    if feedback is not None:
        cond.append(feedback)
    return cond, f


class _Once:
    """Per-request memo for the queue's rows: each label translated, each date formatted once per
    distinct value instead of once per row (the same few words and days repeat down the page)."""

    def __init__(self):
        self._cache: dict = {}

    def _get(self, key, make):
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = make()
            return value

    def label(self, vocabulary: dict, code) -> str:
        return self._get(("label", id(vocabulary), code), lambda: labels.label(vocabulary, code))

    def status_label(self, code) -> str:
        return self.label(labels.STATUS, code)

    def ngettext(self, singular: str, plural: str, num: int) -> Markup:
        """The template's `ngettext` for counts ("%(num)s days left"): numbers need no escaping, and the
        result is markup as with Jinja's own `ngettext`."""
        return self._get(("ngettext", singular, plural, num), lambda: Markup(ngettext(singular, plural, num)))

    def date(self, d, fmt="long") -> str:
        return self._get(("date", d, fmt), lambda: format_date(d, fmt) if d else "")

    def datetime(self, d, fmt="medium") -> str:
        if d and fmt == "short":      # the short format shows no seconds: one entry per minute
            d = d.replace(second=0, microsecond=0)
        return self._get(("datetime", d, fmt), lambda: format_datetime(d, fmt) if d else "")


def _communes(rows) -> dict[int, str]:
    """The commune of each row's first child, read from the sealed answers (the key is in the session)."""
    key = auth.crip_key()
    if key is None or not rows:
        return {}
    out = {}
    q = select(IpChild.ip_id, IpChild.sealed).where(IpChild.ip_id.in_([r.id for r in rows]), IpChild.position == 0)
    for ip_id, sealed in db.session.execute(q):
        try:
            child = sealing.open_json(key, sealed)
        except sealing.SealError:
            continue
        name = child.get("commune_name")
        if not name and child.get("commune"):
            commune = routing.commune_by_insee(child["commune"])
            name = commune.name if commune else ""
        if name:
            out[ip_id] = name
    return out


@bp.get("/")
@require("agent", "supervisor", "evaluator")
def index():
    user = auth.current_user()
    today = paris_date(now_utc())
    cond, f = _filters(request.args, user, today)
    search = request.args.get("ref", "").strip()
    if search:
        ref = codes.normalize_reference(search)
        found = db.session.scalar(select(IP).where(IP.reference == ref, *_visible(user))) if ref else None
        if found:
            return redirect(url_for("crip.case", reference=found.reference))
        if ref and transfer.stub_of(db.session, ref, user.departement) is not None:
            return redirect(url_for("crip.transferred", reference=ref))
    after = queue.parse_cursor(request.args["after"]) if request.args.get("after") else None
    if request.args.get("after") and after is None:
        abort(404)   # a malformed or out-of-range cursor names no page
    rows, more = queue.page(db.session, cond, after)
    counts = queue.desk_counts(db.session, _visible(user), user_id=user.id, today=today)
    since = user.last_queue_view_at
    new_ips, new_messages = queue.new_since(db.session, _visible(user), since) if since else (None, None)
    if not after:
        user.last_queue_view_at = now_utc()
    _audit("queue_view", detail=",".join(f"{k}={v}" for k, v in f.items() if v)[:400])
    unread = queue.unread_by_ip(db.session, [r.id for r in rows])
    communes = _communes(rows)
    db.session.commit()
    next_cursor = queue.cursor_of(rows[-1]) if more and rows else None
    profile = profiles().get(user.departement)
    territories = {t.code: t.name for t in (profile.territories if profile else ())}
    folded = {k: v for k, v in f.items() if k != "view" and v}
    once = _Once()
    return render_template("crip/queue.html", label=once.label, status_label=once.status_label,
                           ngettext=once.ngettext,
                           format_date=once.date, format_datetime=once.datetime, rows=rows, counts=counts, f=f, folded=folded,
                           next_cursor=next_cursor, new_ips=new_ips, new_messages=new_messages, since=since,
                           today=today, crip_profile=profile, territories=territories, unread=unread,
                           communes=communes, categories=CATEGORIES, age_bands=AGE_BANDS, search=search,
                           not_found=bool(search), open_statuses=workflow.OPEN)
