"""The queue as the agent's desk: the common filters one click away with their counts, the others
folded; rows in words; unread messages from senders marked; keyset pages; search by reference."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from flask import abort, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, gettext, ngettext
from markupsafe import Markup, escape
from sqlalchemy import bindparam, or_, select, update

from ..domain import codes, desk_digest, queue, sealing, transfer, workflow
from ..domain.priority import AGE_BANDS, CATEGORIES, paris_date
from ..extensions import db
from ..models import InformationPreoccupante as IP, IpCategory, IpChild
from ..web import now_utc, profiles
from . import auth, bp, labels
from .auth import require
from .common import _audit, _scope, _visible

FILTERS = ("view", "status", "territory", "urgency", "category", "source", "language", "age", "automated",
           "channel", "feedback")


def _filters(args, user, today):
    """The page's filters: (shape, params, conditions_of, f) for queue.page_by_shape, and `f`, what was
    asked (for the form). Every value taken from the request is a bound parameter named in `params`."""
    f = {k: args.get(k, "").strip() for k in FILTERS}
    if f["view"] not in queue.VIEWS:
        f["view"] = "open"
    scope = _scope(user)
    values = {}
    if f["status"] in workflow.STATUSES:
        values["f_status"] = f["status"]
    if f["territory"]:
        values["f_territory"] = f["territory"]
    if f["urgency"] in ("1", "2", "3"):
        values["f_urgency"] = int(f["urgency"])
    if f["category"] in CATEGORIES:
        values["f_category"] = f["category"]
    if f["source"] in ("public", "professional", "young", "elected"):
        values["f_source"] = f["source"]
    if f["language"]:
        values["f_language"] = f["language"][:8]
    if f["age"] in AGE_BANDS:
        values["f_age"] = f["age"]
    if f["channel"]:
        values["f_channel"] = f["channel"][:12]
    hide_automated = f["automated"] == "hide"          # shown by default, tagged: never hidden silently
    feedback = f["feedback"] if f["feedback"] in queue.FEEDBACK_FILTERS else None

    def conditions_of():
        cond = scope.bound_conditions() + queue.view_conditions(f["view"], user_id=user.id, today=today)
        v = {k: bindparam(k, value) for k, value in values.items()}
        if "f_status" in v:
            cond.append(IP.status == v["f_status"])
        if "f_territory" in v:
            cond.append(or_(IP.territory == v["f_territory"], IP.assigned_team == v["f_territory"]))
        if "f_urgency" in v:
            cond.append(IP.urgency == v["f_urgency"])
        if "f_category" in v:
            cond.append(IP.id.in_(select(IpCategory.ip_id).where(IpCategory.category == v["f_category"])))
        if "f_source" in v:
            cond.append(IP.source_type == v["f_source"])
        if "f_language" in v:
            cond.append(IP.language == v["f_language"])
        if "f_age" in v:
            cond.append(IP.youngest_age_band == v["f_age"])
        if hide_automated:
            cond.append(IP.probably_automated.is_(False))
        if "f_channel" in v:
            cond.append(IP.channel == v["f_channel"])
        if feedback is not None:
            cond.append(queue.feedback_condition(feedback, today))
        return cond

    shape = (scope.shape(), f["view"], tuple(sorted(values)), hide_automated, feedback)
    params = dict(scope.params(), view_user=user.id, view_today=today, feedback_today=today, **values)
    return shape, params, conditions_of, f


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

    def gettext(self, text: str) -> Markup:
        """A fixed sentence, as markup like the template's `_()` (the translation is trusted, as there)."""
        return self._get(("gettext", text), lambda: Markup(gettext(text)))

    def date(self, d, fmt="long") -> str:
        return self._get(("date", d, fmt), lambda: format_date(d, fmt) if d else "")

    def datetime(self, d, fmt="medium") -> str:
        if d and fmt == "short":      # the short format shows no seconds: one entry per minute
            d = d.replace(second=0, microsecond=0)
        return self._get(("datetime", d, fmt), lambda: format_datetime(d, fmt) if d else "")


# One line of the queue, as the template wrote it, every cell escaped (markupsafe) once per distinct value.
_ROW = ('\n  <tr class="{}">\n    <td><a href="{}" dir="ltr">{}</a>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n'
        '    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n    <td class="days">{}{}</td>\n  </tr>\n  ').format


_TAG = Markup(' <span class="tag">%s</span>')


class _Words(dict):
    """A memo of one column's words, HTML-escaped: computed on the first row that needs them, a dict
    lookup after."""

    def __init__(self, make):
        super().__init__()
        self._make = make

    def __missing__(self, key):
        value = self[key] = escape(self._make(key))
        return value


def _rows(rows, *, communes, territories, today, once: _Once) -> Markup:
    """The queue's rows in words, as HTML (every value escaped), built here in one pass rather than cell
    by cell in the template."""
    case_prefix = url_for("crip.case", reference="-")[:-1]    # references are letters, digits and "-"
    open_statuses = workflow.OPEN
    urgency = _Words(lambda code: once.label(labels.URGENCY, code))
    status = _Words(once.status_label)
    age = _Words(lambda code: once.label(labels.AGE, code))
    due = _Words(lambda d: once.date(d, "short"))
    received = _Words(lambda minute: once.datetime(minute, "short"))

    def _source(key):
        source_type, channel = key
        words = once.label(labels.SOURCES, source_type)
        return words if channel == "online" else f"{words}, {once.label(labels.CHANNELS, channel).lower()}"
    source = _Words(_source)

    def _left(days):
        if days < 0:
            return Markup("<br><strong>%s</strong>") % once.ngettext("%(num)s day overdue", "%(num)s days overdue", -days)
        if days == 0:
            return Markup("<br><strong>%s</strong>") % once.gettext("due today")
        return Markup("<br>") + once.ngettext("%(num)s day left", "%(num)s days left", days)
    left = _Words(_left)
    out = []
    for ip in rows:
        is_open = ip.status in open_statuses
        days = (ip.evaluation_due - today).days
        css = ("overdue" if is_open and days < 0 else "soon" if is_open and days <= 7 else "") + (
            " unread" if ip.unread else "")
        tags = ""
        if ip.unread or ip.source_type == "young" or ip.probably_automated or ip.routing_status != "routed":
            tags = Markup()
            if ip.unread:
                tags += Markup(' <strong class="tag tag-unread">%s</strong>') % once.ngettext(
                    "%(num)s unread message", "%(num)s unread messages", ip.unread)
            if ip.source_type == "young":
                tags += _TAG % once.gettext("written by a young person")
            if ip.probably_automated:
                tags += _TAG % once.gettext("probably automated")
            if ip.routing_status == "transfer":
                tags += _TAG % (once.gettext("transfer to %(dep)s") % {"dep": ip.departement})
            elif ip.routing_status == "unrouted":
                tags += _TAG % once.gettext("to be routed")
        at = ip.received_at
        out.append(_ROW(
            css, escape(case_prefix + quote(ip.reference, safe="-")), escape(ip.reference), tags, urgency[ip.urgency],
            received[at.replace(second=0, microsecond=0) if at else at], status[ip.status],
            source[ip.source_type, ip.channel],
            escape(communes.get(ip.id) or territories.get(ip.assigned_team or ip.territory) or "—"),
            age[ip.youngest_age_band], due[ip.evaluation_due], left[days] if is_open else ""))
    return Markup("".join(out))


@lru_cache(maxsize=1)
def _first_children():
    return (select(IpChild.id, IpChild.ip_id, IpChild.sealed, IpChild.desk_digest)
            .where(IpChild.ip_id.in_(bindparam("ips", expanding=True)), IpChild.position == 0)
            .order_by(IpChild.id))      # rows written in one order by every view: no lock-order deadlock


def _communes(rows) -> dict[int, str]:
    """The commune of each row's first child, from its desk digest (domain.desk_digest); a row without
    a valid digest has its sealed answers opened (the key is in the session) and its digest made."""
    key = auth.crip_key()
    if key is None or not rows:
        return {}
    dkey = desk_digest.box(desk_digest.derive_key(key))
    out, made = {}, []
    for child_id, ip_id, sealed, digest in db.session.execute(_first_children(), {"ips": [r.id for r in rows]}):
        name = desk_digest.read(dkey, digest, ip_id=ip_id, sealed=sealed)
        if name is None:
            try:
                name = desk_digest.commune_of(sealing.open_json(key, sealed))
            except sealing.SealError:
                continue
            made.append({"id": child_id, "desk_digest": desk_digest.make(dkey, ip_id=ip_id, sealed=sealed,
                                                                         commune=name)})
        if name:
            out[ip_id] = name
    if made:
        db.session.execute(update(IpChild), made)     # by primary key; committed with the view's audit line
    return out


@bp.get("/")
@require("agent", "supervisor", "evaluator")
def index():
    user = auth.current_user()
    today = paris_date(now_utc())
    shape, params, conditions_of, f = _filters(request.args, user, today)
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
    rows, more = queue.page_by_shape(db.session, shape, conditions_of, params, after)
    since = user.last_queue_view_at
    counts = queue.desk_counts(db.session, _scope(user), user_id=user.id, today=today, since=since)
    communes = _communes(rows)
    if not after:
        user.last_queue_view_at = now_utc()
    _audit("queue_view", detail=",".join(f"{k}={v}" for k, v in f.items() if v)[:400])
    db.session.commit()
    next_cursor = queue.cursor_of(rows[-1]) if more and rows else None
    profile = profiles().get(user.departement)
    territories = {t.code: t.name for t in (profile.territories if profile else ())}
    folded = {k: v for k, v in f.items() if k != "view" and v}
    once = _Once()
    index_href = url_for("crip.index")
    return render_template("crip/queue.html", label=once.label, status_label=once.status_label,
                           ngettext=once.ngettext,
                           rows_html=_rows(rows, communes=communes, territories=territories, today=today, once=once),
                           counts=counts, f=f, folded=folded, next_cursor=next_cursor,
                           new_ips=counts.get("new_ips"), new_messages=counts.get("new_messages"), since=since,
                           crip_profile=profile, territories=territories, categories=CATEGORIES,
                           age_bands=AGE_BANDS, search=search, not_found=bool(search),
                           view_hrefs={v: f"{index_href}?view={v}" for v in queue.VIEWS},
                           has_errors=False)     # a page without a form to correct (see web.page_has_errors)
