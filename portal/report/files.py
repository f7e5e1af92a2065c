"""The attachment step: adding, checking and removing files."""
from __future__ import annotations


from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _

from ..domain import attachments, questionnaire
from ..forms import report as F
from ..formatting import file_size
from ..ratelimit import hit
from . import drafts
from .common import _next_step, _posting, _render_step, retour_args

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


def _documents(step, state):
    form = F.AttachmentForm()
    error = None
    if _posting():
        action = request.form.get("action", "")
        if action.startswith("remove-"):
            try:
                state.remove_file(int(action.split("-", 1)[1]))
            except ValueError:
                abort(400)
            return redirect(url_for("report.step", step=questionnaire.FILES, **retour_args()))
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
                                        **retour_args()))
            if error is None:
                return redirect(_next_step(state.data, questionnaire.FILES))
        else:
            return redirect(_next_step(state.data, questionnaire.FILES))
    files = state.file_list()
    variant, most = questionnaire.audience(state.data), current_app.config["ATTACHMENT_MAX_FILES"]
    size = file_size(current_app.config["ATTACHMENT_MAX_BYTES"])
    return _render_step("report/step_files.html", status=400 if error else 200, form=form, state=state,
                        files=files, error=error, attached=None if error else _attached_name(files), max_files=most,
                        intro=_(step.text("intro", variant), n=most, size=size), hint=_(step.text("hint", variant)))


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
