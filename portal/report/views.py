"""The IP form: interruption page, steps, check-your-answers, sending, confirmation, follow-up."""
from __future__ import annotations

import logging
import time
from datetime import date

from flask import (abort, current_app, g, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import get_locale, gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..domain import attachments, codes, intake, keys, questionnaire, routing, sealing
from ..extensions import db
from ..forms import report as F
from ..forms.base import form_data
from ..formatting import file_size
from ..models import CripKey, InformationPreoccupante
from ..ratelimit import client_key, hit, refuse
from ..web import current_profile, now_utc, profiles
from . import bp, drafts

log = logging.getLogger(__name__)

PATHS = questionnaire.PATHS            # the steps of each path, declared once
MAX_CHILDREN = questionnaire.MAX_CHILDREN


@bp.context_processor
def _declaration():
    return {"steps": questionnaire}


@bp.before_request
def _no_store():
    g.no_store = True   # form, confirmation and follow-up pages are never cached


def _path(data) -> list:
    return PATHS[questionnaire.path_of(data)]


def _next_step(data, step) -> str:
    if request.args.get("retour") == "verifier" or request.form.get("retour") == "verifier":
        return url_for("report.check")
    path = _path(data)
    idx = path.index(step) if step in path else 0
    nxt = path[idx + 1] if idx + 1 < len(path) else None
    if nxt is None:
        return url_for("report.check")
    if nxt == questionnaire.CHILD:
        return url_for("report.step", step=questionnaire.CHILD, n=len(data.get("children", [])))
    return url_for("report.step", step=nxt)


def _draft_or_restart():
    state = drafts.load()
    if state is None:
        return None, redirect(url_for("report.start", expire=1))
    mismatch = _other_departement(state)
    if mismatch:
        return None, mismatch
    if state.sent:
        return None, redirect(url_for("report.confirmation"))
    return state, None


_store = form_data


def _load(form_class, stored: dict | None, **kwargs):
    """A form filled from the draft (GET) or from the request (POST)."""
    if request.method == "POST":
        return form_class(**kwargs)
    data = dict(stored or {})
    for key, value in list(data.items()):
        if isinstance(value, str) and key in ("birth_date",):
            try:
                data[key] = date.fromisoformat(value)
            except ValueError:
                data[key] = None
        if key == "facts" and isinstance(value, list):
            data[key] = [{"when": _date_or_none(f.get("when")), "what": f.get("what")} for f in value]
    return form_class(formdata=None, data=data, **kwargs)


def _date_or_none(text):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _other_departement(state):
    """A draft belongs to the département it was started for: on another one's pages, go back there."""
    profile = current_profile()
    if profile is not None and state.row.departement != profile.code:
        return redirect(url_for("report.start", dep=state.row.departement))
    return None


def _previous_step_url(data) -> str:
    """Where "Back" leads: the check page when changing an answer, else the step before this one."""
    if (request.args.get("retour") or request.form.get("retour")) == "verifier":
        return url_for("report.check")
    step = (request.view_args or {}).get("step")
    path = _path(data)
    if step == questionnaire.URGENT:
        return url_for("report.step", step=questionnaire.CONCERN)
    if step not in path or path.index(step) == 0:
        return url_for("report.start")
    before = path[path.index(step) - 1]
    if before == questionnaire.CHILD:
        before = questionnaire.CHILDREN if data.get("children") else questionnaire.CHILD
    if step == questionnaire.CHILD and data.get("children"):
        before = questionnaire.CHILDREN
    return url_for("report.step", step=before, **({"n": 0} if before == questionnaire.CHILD else {}))


def _render_step(template, status=None, **ctx):
    """Render a form page; a POST whose form has errors answers 400, unless `status` says otherwise."""
    state = ctx.get("state")
    data = state.data if state else {}
    ctx.setdefault("retour", request.args.get("retour") or request.form.get("retour"))
    ctx.setdefault("source", data.get("source_type") or "public")
    ctx.setdefault("back_url", _previous_step_url(data))
    ctx.setdefault("revealed_now", g.get("revealed_now", False))
    ctx.setdefault("conditions", {})
    form = ctx.get("form")
    if status is None:
        status = 400 if request.method == "POST" and form is not None and form.errors else 200
    ctx.setdefault("has_errors", status == 400)
    step = (request.view_args or {}).get("step") if request.endpoint == "report.step" else None
    ctx.setdefault("step_counter", questionnaire.step_number(questionnaire.path_of(data), step))
    body = render_template(template, **ctx)
    return body, status


# Start ------------------------------------------------------------------------------------------

@bp.get("/")
def start():
    return render_template("report/start.html", expired=bool(request.args.get("expire")),
                           has_draft=drafts.load() is not None)


@bp.post("/commencer")
def begin():
    limit = current_app.config["RATELIMIT_FORM_STEP"]
    if not hit("step", limit):
        g.rate_limited = True
        return refuse(render_template("report/start.html", expired=False, has_draft=False), "step", limit)
    state = drafts.load()
    if state is not None and not state.sent and request.form.get("resume") == "1":
        return redirect(url_for("report.step", step=questionnaire.WHO))
    profile = current_profile()
    state, cookie = drafts.create(profile.code)
    response = redirect(url_for("report.step", step=questionnaire.WHO))
    drafts.set_cookie(response, cookie)
    return response


# Steps --------------------------------------------------------------------------------------------

def _posting() -> bool:
    """A POST to act on: not when the rate limit refused it (the page then shows what was typed)."""
    return request.method == "POST" and not g.get("rate_limited")


@bp.route("/etape/<step>", methods=["GET", "POST"])
def step(step):
    handlers = {questionnaire.WHO: _who, questionnaire.CHILD: _child, questionnaire.CHILDREN: _children, questionnaire.ADULTS: _adults,
                questionnaire.CONCERN: _concern, questionnaire.PRO: _professional, questionnaire.SENDER: _sender,
                questionnaire.FILES: _documents, questionnaire.URGENT: _emergency}
    handler = handlers.get(step)
    if handler is None:
        abort(404)
    state, redirect_response = _draft_or_restart()
    if redirect_response:
        return redirect_response
    if request.method == "POST" and not hit("step", current_app.config["RATELIMIT_FORM_STEP"]):
        g.rate_limited = True
        body = handler(state)
        if isinstance(body, tuple):
            body = body[0]
        if not isinstance(body, str):   # a redirect: nothing typed to show again
            return body
        return refuse(body, "step", current_app.config["RATELIMIT_FORM_STEP"])
    return handler(state)


def _who(state):
    form = _load(F.WhoForm, {"source_type": state.data.get("source_type"), "sector": state.data.get("sector")})
    if _posting() and _judge(form, questionnaire.WHO, state):
        state.data["source_type"] = form.source_type.data
        state.data["sector"] = form.sector.data if form.source_type.data == "professional" else ""
        state.save()
        return redirect(_next_step(state.data, questionnaire.WHO))
    return _render_step("report/step_who.html", form=form, state=state,
                        conditions=_conditions(questionnaire.WHO, state, form))


def _judge(form, step, state, section=None) -> bool:
    """Validate a step. A conditional question the sender has not seen yet (hidden when the page was
    sent, and no script showed it) is revealed on the page that comes back, not judged."""
    if form.validate():
        return True
    data = _store(form)
    answers = dict(state.data, **({section: data} if section else data))
    seen = set(request.form.getlist("revealed"))
    found = questionnaire.conditions(step, questionnaire.path_of(answers), data, answers)
    seen |= {watch for key, (_s, watch) in found.items() if watch and (request.form.get(key) or "").strip()}
    for key, (shown, watch) in found.items():
        if shown and watch and watch not in seen and key in form and form[key].errors:
            form[key].errors = []
            g.revealed_now = True
    form._errors = None
    return False


def _conditions(step, state, form, section=None) -> dict:
    data = _store(form) if request.method == "POST" else (state.data.get(section) if section else state.data) or {}
    answers = dict(state.data, **({section: data} if section else data))
    return questionnaire.conditions(step, questionnaire.path_of(answers), data, answers)


def _child_form_class(state):
    return F.YoungChildForm if state.data.get("source_type") == "young" else F.ChildForm


def _commune_choices(postcode):
    pc = routing.normalize_postcode(postcode or "")
    communes = routing.communes_for_postcode(pc) if pc else []
    choices = [("", _("Choose the commune"))] + [
        (c.insee, f"{c.name} ({c.departement})") for c in communes]
    return communes, choices


def _place_of_previous(children) -> dict | None:
    """A brother or sister most often lives at the same place: offer the previous child's commune."""
    if not children:
        return None
    last = children[-1]
    return {k: last.get(k) for k in ("postcode", "commune", "address", "lives_with") if last.get(k)}


def _child(state):
    children = state.data.setdefault("children", [])
    try:
        n = int(request.args.get("n", len(children)))
    except ValueError:
        abort(404)
    if n < 0 or n > len(children) or n >= MAX_CHILDREN:
        abort(404)
    form = _load(_child_form_class(state), children[n] if n < len(children) else _place_of_previous(children))
    communes, form.commune.choices = _commune_choices(form.postcode.data)
    lookup = request.method == "POST" and request.form.get("action") == "find_communes"
    if _posting() and not lookup:
        ok = form.validate()
        if ok and len(communes) > 1 and form.commune.data not in {c.insee for c in communes}:
            form.commune.errors = [_("This postcode covers several communes: choose one.")]
            ok = False
        if ok and form.commune.data and form.commune.data not in {c.insee for c in communes}:
            form.commune.data = ""
        if ok:
            data = _store(form)
            if len(communes) == 1:
                data["commune"] = communes[0].insee
            if data.get("postcode"):
                data["postcode"] = routing.normalize_postcode(data["postcode"])
            c = routing.commune_by_insee(data.get("commune")) if data.get("commune") else None
            data["commune_name"] = c.name if c else ""
            if n < len(children):
                children[n] = data
            else:
                children.append(data)
            state.save()
            if request.args.get("retour") == "verifier":
                return redirect(url_for("report.check"))
            return redirect(url_for("report.step", step=questionnaire.CHILDREN))
    return _render_step("report/step_child.html", form=form, state=state, n=n, communes=communes,
                        lookup=lookup, editing=n < len(children))


def _children(state):
    children = state.data.get("children", [])
    if not children:
        return redirect(url_for("report.step", step=questionnaire.CHILD, n=0))
    if _posting():
        action = request.form.get("action", "")
        if action.startswith("remove-"):
            try:
                idx = int(action.split("-", 1)[1])
            except ValueError:
                abort(400)
            if 0 <= idx < len(children) and len(children) > 1:
                children.pop(idx)
                state.save()
            return redirect(url_for("report.step", step=questionnaire.CHILDREN, **({"retour": "verifier"} if request.form.get("retour") else {})))
        if action == "add" and len(children) < MAX_CHILDREN:
            return redirect(url_for("report.step", step=questionnaire.CHILD, n=len(children)))
        return redirect(_next_step(state.data, questionnaire.CHILDREN))
    return _render_step("report/step_children.html", state=state, children=children,
                        can_add=len(children) < MAX_CHILDREN)


def _adults(state):
    form = _load(F.AdultsForm, state.data.get("adults"))
    if _posting() and form.validate():
        state.data["adults"] = _store(form)
        state.save()
        return redirect(_next_step(state.data, questionnaire.ADULTS))
    return _render_step("report/step_adults.html", form=form, state=state)


def _concern(state):
    cls = {questionnaire.YOUNG: F.YoungConcernForm, questionnaire.PROFESSIONAL: F.ProfessionalConcernForm}.get(
        questionnaire.path_of(state.data), F.ConcernForm)
    form = _load(cls, state.data.get("concern"))
    if _posting() and form.validate():
        state.data["concern"] = _store(form)
        state.save()
        if form.danger_now.data == "yes":
            return redirect(url_for("report.step", step=questionnaire.URGENT, **({"retour": "verifier"} if request.form.get("retour") else {})))
        return redirect(_next_step(state.data, questionnaire.CONCERN))
    return _render_step("report/step_concern.html", form=form, state=state)


def _emergency(state):
    return _render_step("report/emergency.html", state=state,
                        next_url=_next_step(state.data, questionnaire.CONCERN))


def _professional(state):
    if state.data.get("source_type") != "professional":
        return redirect(url_for("report.step", step=questionnaire.WHO))
    form = _load(F.ProfessionalForm, state.data.get("pro"))
    action = request.form.get("action") if _posting() else None
    if action == "add_fact":
        if len(form.facts.entries) < form.facts.max_entries:
            form.facts.append_entry()
        state.data["pro"] = _store(form)   # keep what was typed, without judging it yet
        state.save()
        return _render_step("report/step_professional.html", form=form, state=state, focus_last_fact=True,
                            conditions=_conditions(questionnaire.PRO, state, form, "pro"))
    if _posting() and _judge(form, questionnaire.PRO, state, "pro"):
        state.data["pro"] = _store(form)
        state.save()
        return redirect(_next_step(state.data, questionnaire.PRO))
    return _render_step("report/step_professional.html", form=form, state=state,
                        conditions=_conditions(questionnaire.PRO, state, form, "pro"))


def _sender(state):
    if state.data.get("source_type") == "professional":
        form = _load(F.ProfessionalSenderForm, state.data.get("sender") or {"contact_language": str(get_locale())})
    else:
        stored = state.data.get("sender") or {"contact_language": str(get_locale())}
        if state.data.get("source_type") == "young" and "anonymous" not in stored:
            stored = dict(stored, anonymous="yes")
        if state.data.get("source_type") == questionnaire.ELECTED and "anonymous" not in stored:
            stored = dict(stored, anonymous="no")    # owed feedback (L226-5): named by default
        form = _load(F.SenderForm, stored)
    if _posting() and _judge(form, questionnaire.SENDER, state, "sender"):
        data = _store(form)
        if data.get("anonymous") == "yes":
            for k in ("name", "relation", "phone", "email"):
                data[k] = ""
        state.data["sender"] = data
        state.save()
        return redirect(_next_step(state.data, questionnaire.SENDER))
    return _render_step("report/step_sender.html", form=form, state=state,
                        conditions=_conditions(questionnaire.SENDER, state, form, "sender"))


ATTACHMENT_REASONS = {
    "empty": lambda: _("The file is empty."),
    "too_large": lambda: _("The file is larger than %(size)s.", size=file_size(current_app.config["ATTACHMENT_MAX_BYTES"])),
    "type": lambda: _("This type of file is not accepted. Send a PDF, a photo (JPEG, PNG, WebP), a Word or OpenDocument text, or a text file."),
    "unreadable_image": lambda: _("This image cannot be read. Try another photo or a PDF."),
    "too_many": lambda: _("You can attach at most %(n)s files.", n=current_app.config["ATTACHMENT_MAX_FILES"]),
    "too_many_pixels": lambda: _("This image has too many pixels to be checked safely. Send a smaller photo or a screenshot of it."),
    "archive_bomb": lambda: _("This document expands to far more than its size when opened, so it cannot be accepted. Save it again, or send it as a PDF."),
    "active_content": lambda: _("This file contains macros, scripts or embedded programs, which are not accepted. Save it without them, or send it as a PDF."),
    "remote_content": lambda: _("This document loads content from the internet, which is not accepted. Save it as a PDF and send that instead."),
    "encrypted": lambda: _("This file is protected by a password. Remove the protection, or send another file."),
    "unreadable_pdf": lambda: _("This PDF cannot be read. Try saving it again, or send another file."),
    "too_complex": lambda: _("This file is too large or too complex to be checked in time. Try a smaller file, or send it as a PDF."),
    "missing": lambda: _("Choose a file first."),
}


def _documents(state):
    form = F.AttachmentForm()
    error = None
    if _posting():
        action = request.form.get("action", "")
        if action.startswith("remove-"):
            try:
                state.remove_file(int(action.split("-", 1)[1]))
            except ValueError:
                abort(400)
            return redirect(url_for("report.step", step=questionnaire.FILES, **({"retour": "verifier"} if request.form.get("retour") else {})))
        chosen = request.files.get("file")
        if action == "upload" or (chosen is not None and chosen.filename):
            # A file chosen is never dropped: "Continue" with a file selected attaches it first.
            if not form.validate():
                error = _("Your session has expired. Nothing is lost: choose the file again.")
            else:
                error = _upload(state)
            if error is None and action == "upload":
                newest = max((fid for fid, _meta in state.file_list()), default=None)
                return redirect(url_for("report.step", step=questionnaire.FILES, joint=newest, _anchor="attached",
                                        **({"retour": "verifier"} if request.form.get("retour") else {})))
            if error is None:
                return redirect(_next_step(state.data, questionnaire.FILES))
        else:
            return redirect(_next_step(state.data, questionnaire.FILES))
    files = state.file_list()
    return _render_step("report/step_files.html", status=400 if error else 200, form=form, state=state,
                        files=files, error=error, attached=None if error else _attached_name(files), max_files=current_app.config["ATTACHMENT_MAX_FILES"],
                        max_size=file_size(current_app.config["ATTACHMENT_MAX_BYTES"]))


def _attached_name(files):
    """The name of the file just attached (the URL carries its number, never its name)."""
    joint = request.args.get("joint", "")
    return next((meta["name"] for fid, meta in files if str(fid) == joint), None)


def _upload(state):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return ATTACHMENT_REASONS["missing"]()
    if len(state.row.files) >= current_app.config["ATTACHMENT_MAX_FILES"]:
        return ATTACHMENT_REASONS["too_many"]()
    if not _upload_allowed():
        return _("You have sent many files in a short time. Please wait a little before adding another; everything else you typed is kept.")
    c = current_app.config
    try:
        checked = attachments.check_upload(
            upload.filename, upload.stream, max_bytes=c["ATTACHMENT_MAX_BYTES"],
            memory_bytes=c["ATTACHMENT_CHECK_MEMORY_MB"] * 1024 * 1024, seconds=c["ATTACHMENT_CHECK_SECONDS"])
        state.add_file(checked.name, checked.mime, checked.data, max_files=c["ATTACHMENT_MAX_FILES"])
    except attachments.AttachmentError as exc:
        return ATTACHMENT_REASONS.get(exc.reason, ATTACHMENT_REASONS["type"])()
    except drafts.TooManyFiles:
        return ATTACHMENT_REASONS["too_many"]()
    return None


def _upload_allowed() -> bool:
    """Attachment uploads have their own limit; a refusal keeps the page and what was typed."""
    return hit("upload", current_app.config["RATELIMIT_UPLOAD"])


# Check your answers and send -------------------------------------------------------------------

def _missing_steps(data) -> list:
    missing = []
    if not data.get("source_type"):
        missing.append(questionnaire.WHO)
    if not data.get("children"):
        missing.append(questionnaire.CHILD)
    if not data.get("concern"):
        missing.append(questionnaire.CONCERN)
    if data.get("source_type") == "professional" and not data.get("pro"):
        missing.append(questionnaire.PRO)
    if not data.get("sender"):
        missing.append(questionnaire.SENDER)
    return missing


@bp.get("/verifier")
def check():
    state, redirect_response = _draft_or_restart()
    if redirect_response:
        return redirect_response
    missing = _missing_steps(state.data)
    if missing:
        return redirect(url_for("report.step", step=missing[0], **({"n": 0} if missing[0] == questionnaire.CHILD else {})))
    return _check_page(state, F.SendForm())


def _check_page(state, form, status=None, files=None, **extra):
    """Check-your-answers: the report read back by the one summary, with a "Change" link per answer."""
    files = state.file_list() if files is None else files
    sections = questionnaire.summary(state.data, None, str(get_locale()),
                                     files=[meta["name"] for _fid, meta in files])
    return _render_step("report/check.html", status=status, state=state, sections=sections, form=form, **extra)


def _send_limit_key():
    return client_key()


@bp.post("/envoyer")
def send():
    state = drafts.load()
    if state is None:
        return redirect(url_for("report.start", expire=1))
    if _other_departement(state):
        return _other_departement(state)
    if state.sent:
        return redirect(url_for("report.confirmation"))
    form = F.SendForm()
    missing = _missing_steps(state.data)
    if missing:
        return redirect(url_for("report.check"))
    if not form.validate():
        return _check_page(state, form, status=400)
    if not hit("send", current_app.config["RATELIMIT_SEND"]):
        return refuse(_check_page(state, form, status=429, limited=True), "send", current_app.config["RATELIMIT_SEND"])
    automated = bool(form.website.data) or (
        time.time() - float(state.data.get("started_at", 0)) < current_app.config["FORM_MIN_SECONDS"])
    return _commit_send(state, automated)


def _commit_send(state, automated: bool):
    profile = profiles()[state.row.departement]
    session_ = db.session
    try:
        crip_key = keys.active_key(session_, profile.code)
        if crip_key is None:
            log.error("no active CRIP key for département %s: cannot accept IPs", profile.code)
            return _send_failed(state)
        # One file at a time: each is read, sealed and written before the next (bounded memory).
        files = (attachments.CheckedFile(meta["name"], meta["mime"], state.file_data(fid))
                 for fid, meta in state.file_list())
        receipt = intake.submit(
            session_, answers=_answers(state.data), files=files, received_by=profile.code,
            served=profiles(), crip_key=crip_key, secret_key=current_app.config["SECRET_KEY"],
            submission_token=state.row.submission_token, language=str(get_locale()),
            probably_automated=automated, now=now_utc())
        _notify_if_urgent(session_, receipt.ip_id, receipt.crip)
        state.row.ip_id = receipt.ip_id
        state.row.confirmation = sealing.encrypt_json(state.key, {
            "reference": receipt.reference, "code": receipt.code, "source_type": state.data.get("source_type"),
            "crip": receipt.crip, "routing": receipt.routing_status, "child_departement": receipt.departement,
            "answers": state.data if state.data.get("source_type") == "professional" else None,
            "sent_at": now_utc().isoformat()})
        state.row.ciphertext = sealing.encrypt_json(state.key, {"sent": True})
        state.row.files.clear()
        state.row.updated_at = now_utc()
        session_.commit()
    except IntegrityError:
        # A concurrent post of the same draft won: show its confirmation.
        session_.rollback()
        session_.expire_all()
        g.pop("draft_state", None)
        again = drafts.load()
        if again is not None and again.sent:
            return redirect(url_for("report.confirmation"))
        return _send_failed(state)
    except (OperationalError, DBAPIError):
        session_.rollback()
        log.error("database unavailable while sending an IP")
        return _send_failed(state)
    log.info("IP received for %s (source=%s, automated=%s)", profile.code, state.data.get("source_type"), automated)
    return redirect(url_for("report.confirmation"), code=303)


def _notify_if_urgent(session_, ip_id, departement):
    """An immediate-urgency IP: tell the CRIP's staff by e-mail that something is waiting (no content)."""
    from ..domain import outbox
    ip = session_.get(InformationPreoccupante, ip_id)
    if ip.urgency == 1:
        outbox.notify_new_urgent(session_, ip, outbox.staff_recipients(session_, departement))


def _send_failed(state):
    return _check_page(state, F.SendForm(), status=503, failed=True, files=_safe_files(state))


def _safe_files(state):
    try:
        return state.file_list()
    except Exception:
        return []


def _answers(data) -> dict:
    keep = ("source_type", "sector", "children", "adults", "concern", "pro", "sender")
    return {k: data[k] for k in keep if k in data}


@bp.get("/confirmation")
def confirmation():
    state = drafts.load()
    conf = state.confirmation() if state is not None else None
    if conf is None:
        return redirect(url_for("report.start"))
    if _other_departement(state):
        return _other_departement(state)
    return render_template("report/confirmation.html", reference=conf["reference"],
                           code=codes.group(conf["code"]), source=conf.get("source_type"),
                           **_routing_words(conf))


def _routing_words(conf) -> dict:
    """Which CRIP reads the report, or which unserved département it will be forwarded to."""
    transfer = conf.get("routing") == routing.TRANSFER and conf.get("child_departement")
    return {"crip_profile": profiles().get(conf.get("crip") or ""),
            "transfer_to": (routing.departement_name(conf["child_departement"]) or conf["child_departement"])
            if transfer else None}


@bp.get("/confirmation/copie.pdf")
def confirmation_pdf():
    state = drafts.load()
    conf = state.confirmation() if state is not None else None
    if conf is None or not conf.get("answers"):
        abort(404)
    from datetime import datetime
    from .pdf import render_copy
    sent_at = datetime.fromisoformat(conf["sent_at"]) if conf.get("sent_at") else None
    pdf = render_copy(conf["reference"], conf["answers"], sent_at=sent_at, profile=current_profile(),
                      locale=str(get_locale()), gettext=_)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{conf["reference"]}.pdf"'
    return response


@bp.post("/terminer")
def finish():
    """Forget the confirmation in this browser (the IP itself is safe in the CRIP's queue)."""
    response = redirect(url_for("public.home"))
    drafts.clear_cookie(response)
    return response


# Follow-up ------------------------------------------------------------------------------------

FU_SESSION = "fu"


def _fu_box():
    from ..domain import staff
    return staff.session_key_box(current_app.config["SECRET_KEY"])


def _fu_access():
    """The follow-up session: the cookie holds the IP id, a nonce that must match the one stored
    server-side (cleared at sign-out), and the follow-up key encrypted with a server key."""
    data = session.get(FU_SESSION)
    if not data:
        return None
    if data.get("exp", 0) < time.time():
        session.pop(FU_SESSION, None)
        return None
    ip = db.session.get(InformationPreoccupante, data.get("ip"))
    nonce = data.get("n")
    if ip is None or ip.followup is None or not nonce or ip.followup.session_nonce != nonce:
        session.pop(FU_SESSION, None)
        return None
    try:
        sk = sealing.decrypt(_fu_box(), bytes.fromhex(data.get("k", "")))
    except (sealing.SealError, ValueError):
        session.pop(FU_SESSION, None)
        return None
    data["exp"] = time.time() + 20 * 60
    session[FU_SESSION] = data
    return ip, sk


@bp.route("/suivi", methods=["GET", "POST"])
def followup():
    form = F.FollowUpForm()
    error = None
    status = 200
    if _posting() and form.validate():
        limit = current_app.config["RATELIMIT_FOLLOWUP_CHECK"]
        if not hit("followup", limit):
            return refuse(render_template("report/followup_signin.html", form=form, limited=True), "followup", limit)
        # A reference with recent wrong codes is slowed down, never locked: its sender still gets in.
        wait = intake.followup_delay(db.session, reference=form.reference.data, now=now_utc(),
                                     free=current_app.config["FOLLOWUP_LOCK_AFTER"],
                                     base_ms=current_app.config["SIGNIN_DELAY_BASE_MS"],
                                     max_ms=current_app.config["SIGNIN_DELAY_MAX_MS"])
        if wait > 0:
            import time as _time
            _time.sleep(wait)
        try:
            access = intake.check_followup(
                db.session, reference=form.reference.data, code=form.code.data,
                secret_key=current_app.config["SECRET_KEY"], now=now_utc(),
                lock_after=current_app.config["FOLLOWUP_LOCK_AFTER"],
                lock_seconds=current_app.config["FOLLOWUP_LOCK_SECONDS"])
            db.session.commit()
        except intake.FollowUpLocked:
            db.session.rollback()
            access = None
        if access is not None:
            import secrets
            ip = db.session.get(InformationPreoccupante, access.ip_id)
            nonce = secrets.token_urlsafe(24)
            ip.followup.session_nonce = nonce
            db.session.commit()
            session[FU_SESSION] = {"ip": access.ip_id, "n": nonce, "exp": time.time() + 20 * 60,
                                   "k": sealing.encrypt(_fu_box(), access.private_key).hex()}
            from ..i18n import CODES
            if "lang" not in session and ip.contact_language in CODES:
                session["lang"] = ip.contact_language   # the follow-up page speaks the sender's language
            return redirect(url_for("report.followup_messages"), code=303)
        error = _("This reference and code do not match a report, or too many attempts were made. Check them and try again later.")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("report/followup_signin.html", form=form, error=error), status


@bp.route("/suivi/messages", methods=["GET", "POST"])
def followup_messages():
    found = _fu_access()
    if found is None:
        return redirect(url_for("report.followup"))
    ip, sk = found
    form = F.MessageForm()
    status = 200
    if request.method == "POST":
        limit = current_app.config["RATELIMIT_FOLLOWUP_MESSAGE"]
        if form.validate():
            if not hit("message", limit):
                messages = intake.sender_messages(ip, sk, now_utc())
                return refuse(render_template("report/followup.html", ip=ip, form=form, messages=messages,
                                              status=intake.coarse_status(ip.status), limited=True,
                                              **_followup_limits()), "message", limit)
            checked = _followup_files(form)
            if checked is None:
                messages = intake.sender_messages(ip, sk, now_utc())
                db.session.commit()
                return render_template("report/followup.html", ip=ip, form=form, messages=messages,
                                       status=intake.coarse_status(ip.status), **_followup_limits()), 400
            crip_key = db.session.get(CripKey, ip.crip_key_id)
            try:
                intake.post_sender_message(db.session, ip=ip, crip_public_key=crip_key.public_key,
                                           text=(form.body.data or "").strip(), now=now_utc(), files=checked)
                db.session.commit()
            except (OperationalError, DBAPIError):
                db.session.rollback()
                messages = []
                return render_template("report/followup.html", ip=ip, form=form, messages=messages,
                                       status=intake.coarse_status(ip.status), failed=True,
                                       **_followup_limits()), 503
            return redirect(url_for("report.followup_messages", envoye=1), code=303)
        status = 400
    messages = intake.sender_messages(ip, sk, now_utc())
    db.session.commit()
    return render_template("report/followup.html", ip=ip, form=form if status == 400 else F.MessageForm(formdata=None),
                           messages=messages, status=intake.coarse_status(ip.status),
                           sent=bool(request.args.get("envoye")), **_followup_limits()), status


def _followup_limits() -> dict:
    return {"max_files": current_app.config["ATTACHMENT_MAX_FILES"],
            "max_size": file_size(current_app.config["ATTACHMENT_MAX_BYTES"])}


def _followup_files(form):
    """Each file chosen on the follow-up page, checked like the report's own (same limits, same
    messages); None, with the reason on the form's file field, if one is refused (the text stays)."""
    c = current_app.config
    chosen = [f for f in (form.files.data or []) if getattr(f, "filename", "")]
    if len(chosen) > c["ATTACHMENT_MAX_FILES"]:
        form.files.errors = [ATTACHMENT_REASONS["too_many"]()]
        return None
    checked = []
    for upload in chosen:
        try:
            checked.append(attachments.check_upload(
                upload.filename, upload.stream, max_bytes=c["ATTACHMENT_MAX_BYTES"],
                memory_bytes=c["ATTACHMENT_CHECK_MEMORY_MB"] * 1024 * 1024, seconds=c["ATTACHMENT_CHECK_SECONDS"]))
        except attachments.AttachmentError as exc:
            form.files.errors = [ATTACHMENT_REASONS.get(exc.reason, ATTACHMENT_REASONS["type"])()]
            return None
    return checked


@bp.post("/suivi/fin")
def followup_signout():
    found = _fu_access()
    if found is not None:
        found[0].followup.session_nonce = None   # a copy of the cookie is dead from now on
        db.session.commit()
    session.pop(FU_SESSION, None)
    return redirect(url_for("report.followup"))
