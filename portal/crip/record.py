"""Recording an IP that came by phone, post, e-mail, the 119 or the parquet."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import get_locale, gettext as _

from ..domain import codes, intake
from ..extensions import db
from ..forms import crip as CF
from ..forms.base import form_data
from ..models import InformationPreoccupante as IP
from ..web import now_utc, profiles
from . import auth, bp
from .auth import require
from .common import _audit


@bp.route("/saisie", methods=["GET", "POST"])
@require("agent", "supervisor")
def record():
    """The same structured questions as the public form, on one page, marked with the channel
    and who took it; sealed and queued the same way. The caller can be given a follow-up code."""
    from ..forms import report as RF
    from ..domain import keys, routing
    user = auth.current_user()
    head = CF.StaffIntakeForm(prefix="ip")
    from ..domain import questionnaire as Q
    child = RF.step_form(Q.STEPS[Q.CHILD], Q.PUBLIC)(prefix="child")
    concern = RF.step_form(Q.STEPS[Q.CONCERN], Q.PUBLIC)(prefix="concern")
    sender = RF.step_form(Q.STEPS[Q.SENDER], Q.PUBLIC)(prefix="sender")
    pc = routing.normalize_postcode(child.postcode.data or "")
    communes = routing.communes_for_postcode(pc) if pc else []
    child.commune.choices = [("", _("Choose the commune"))] + [(c.insee, f"{c.name} ({c.departement})") for c in communes]
    if request.method == "POST":
        ok = all([head.validate(), child.validate(), concern.validate(), sender.validate()])
        if ok and len(communes) > 1 and child.commune.data not in {c.insee for c in communes}:
            child.commune.errors = [_("This postcode covers several communes: choose one.")]
            ok = False
        if ok:
            child_data = form_data(child)
            if len(communes) == 1:
                child_data["commune"] = communes[0].insee
            c = routing.commune_by_insee(child_data.get("commune")) if child_data.get("commune") else None
            child_data["commune_name"] = c.name if c else ""
            answers = {"source_type": head.source_type.data, "children": [child_data],
                       "concern": form_data(concern), "sender": form_data(sender),
                       "taken_by": user.name, "channel": head.channel.data}
            cfg = current_app.config
            receipt = intake.submit(
                db.session, answers=answers, files=[], received_by=user.departement, served=profiles(),
                crip_key=keys.active_key(db.session, user.departement), secret_key=cfg["SECRET_KEY"],
                submission_token=None, language=str(get_locale()),
                probably_automated=False, now=now_utc(), channel=head.channel.data)
            ip = db.session.get(IP, receipt.ip_id)
            ip.taken_by_id = user.id
            _audit("recorded", target=receipt.reference, detail=head.channel.data)
            db.session.commit()
            return render_template("crip/recorded.html", reference=receipt.reference, code=codes.group(receipt.code),
                                   other_crip=profiles().get(receipt.crip) if receipt.crip != user.departement else None)
    return render_template("crip/record.html", head=head, child=child, concern=concern, sender=sender,
                           communes=communes), (400 if request.method == "POST" else 200)
