"""Legal duties on a case (feedback to the sender, written notice to the parents, the procureur
prompt) and the transfer of an IP to another CRIP of this instance. The rules are in
portal.domain.workflow, portal.domain.queue and portal.domain.transfer; this module only wires them."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import format_date, gettext as _

from ..domain import codes, transfer as transfers, workflow
from ..domain.priority import paris_date
from ..extensions import db
from ..forms import crip as CF
from ..web import now_utc, profiles
from . import bp
from .auth import current_user, require
from .case import _render_case
from .common import TRANSITION_ERRORS, _audit, _key_or_403, _load_case, _transition_error as transition_error

TRANSITION_ERRORS.update({
    "date": lambda: _("Give the date."),
    "future_date": lambda: _("The date cannot be in the future."),
    "before_receipt": lambda: _("The date cannot be before the IP was received."),
    "no_feedback": lambda: _("No feedback is owed to this sender."),
    "same": lambda: _("This IP is already with this CRIP."),
    "not_served": lambda: _("Choose a CRIP of this site."),
    "no_key": lambda: _("That CRIP has no key yet: it cannot receive an IP."),
    "wrong_key": lambda: _("Your key does not open this IP: it cannot be transferred."),
})


TRANSFERABLE = ("new", "analysis", "more_info", "evaluation")


def _transfer_choices(ip):
    return [(code, p.name) for code, p in profiles().items() if code != ip.received_by]


def _shown(ip, user):
    """Which of these forms the case page shows this person (crip/_legal_duties.html reads it)."""
    staff = user.role in ("agent", "supervisor")
    return {"feedback": staff and ip.feedback_due is not None and ip.feedback_given_on is None,
            "parents": staff and workflow.parents_notice_missing(ip),
            "transfer": user.role == "supervisor" and ip.status in TRANSFERABLE and bool(_transfer_choices(ip))}


@bp.app_context_processor
def _duties_globals():
    if not g.get("back_office"):
        return {}

    def legal_duties(ip, failed=None):
        """What the case page shows about the legal duties, and the forms to record them; `failed` =
        (prefix, form) of the form refused, shown again as typed."""
        today = paris_date(now_utc())
        forms = {"feedback": CF.DutyDateForm(formdata=None, prefix="feedback", on=today),
                 "parents": CF.DutyDateForm(formdata=None, prefix="parents", on=today),
                 "transfer": CF.TransferForm(formdata=None, prefix="transfer")}
        if failed:
            forms[failed[0]] = failed[1]
        forms["transfer"].destination.choices = [("", _("Choose"))] + _transfer_choices(ip)
        return {
            "today": today,
            "prompt": workflow.referral_prompt(ip),
            "feedback_overdue": ip.feedback_due is not None and ip.feedback_given_on is None
            and ip.feedback_due < today,
            "shown": _shown(ip, current_user()),
            "feedback_form": forms["feedback"], "parents_form": forms["parents"], "transfer_form": forms["transfer"],
            "received_via": profiles().get(ip.received_via) if ip.received_via else None,
        }
    return {"legal_duties": legal_duties}


def _refused(user, ip, prefix, form, field, code=None):
    """The case page again (400), the refused form as typed with the error at its field (`code`: a
    refusal of the rules, crip/common.py's TRANSITION_ERRORS). When the page no longer shows that form
    (someone recorded it meanwhile), the summary says why, linked to the duties."""
    if code:
        field.errors = [transition_error(code)]
    if not _shown(ip, user)[prefix]:
        form.form_errors.extend(field.errors)
        field.errors = []
        form.error_anchor = "duties"
    return _render_case(user, ip, duty_failed=(prefix, form), status=400)


def _record(reference, action, fn, prefix):
    user, ip = _load_case(reference)
    form = CF.DutyDateForm(prefix=prefix)
    if not form.validate():
        return _refused(user, ip, prefix, form, form.on)
    try:
        fn(ip, form.on.data, paris_date(now_utc()))
    except workflow.TransitionError as exc:
        db.session.rollback()
        user, ip = _load_case(reference)
        return _refused(user, ip, prefix, form, form.on, exc.code)
    _audit(action, target=ip.reference, detail=form.on.data.isoformat())
    db.session.commit()
    flash(_("Recorded on %(ref)s: done on %(date)s.", ref=ip.reference, date=format_date(form.on.data, "short")),
          "notice")
    return redirect(url_for("crip.case", reference=ip.reference) + "#duties", code=303)


@bp.post("/ip/<reference>/retour-auteur")
@require("agent", "supervisor")
def feedback_given(reference):
    return _record(reference, "feedback_given", workflow.record_feedback, "feedback")


@bp.post("/ip/<reference>/avis-parents")
@require("agent", "supervisor")
def parents_notified(reference):
    return _record(reference, "parents_notified", workflow.record_parents_notice, "parents")


@bp.post("/ip/<reference>/transferer")
@require("supervisor")
def transfer(reference):
    user, ip = _load_case(reference)
    key = _key_or_403()
    form = CF.TransferForm(prefix="transfer")
    if not form.validate():
        return _refused(user, ip, "transfer", form, form.destination)
    try:
        transfers.transfer(db.session, ip, source_private_key=key, destination=form.destination.data,
                           served=profiles(), actor_id=user.id, now=now_utc(),
                           audit_key=current_app.config["AUDIT_KEY"])
    except transfers.TransferError as exc:
        db.session.rollback()
        user, ip = _load_case(reference)
        return _refused(user, ip, "transfer", form, form.destination, exc.code)
    db.session.commit()
    return redirect(url_for("crip.transferred", reference=ip.reference), code=303)


@bp.get("/transfere/<reference>")
@require("agent", "supervisor", "evaluator")
def transferred(reference):
    """The stub the source CRIP keeps: which CRIP now holds the IP, since when."""
    user = current_user()
    ref = codes.normalize_reference(reference)
    stub = transfers.stub_of(db.session, ref, user.departement) if ref else None
    if stub is None:
        abort(404)
    return render_template("crip/transferred.html", stub=stub, destination=profiles().get(stub.to_departement))
