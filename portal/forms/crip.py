"""Back-office forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from .base import BaseForm
from wtforms import DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional


class SignInForm(BaseForm):
    email = StringField(_l("E-mail"), validators=[InputRequired(_l("Enter your e-mail address.")), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password.")), Length(max=200)])


class CodeForm(BaseForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[InputRequired(_l("Enter the code.")), Length(max=20)])


class EnrolForm(BaseForm):
    code = StringField(_l("Code shown by the app"), validators=[InputRequired(_l("Enter the code.")), Length(max=10)])


class PasswordChangeForm(BaseForm):
    old = PasswordField(_l("Current password"), validators=[InputRequired(_l("Enter your current password."))])
    new = PasswordField(_l("New password"), validators=[InputRequired(_l("Enter a new password.")), Length(min=12, max=200, message=_l("Use 12 to 200 characters."))])


class TransitionForm(BaseForm):
    """One change of status; the case page shows, for each change, only the fields it needs
    (see crip.case.TARGET_FIELDS). The target status travels as `to`, outside the form's prefix."""
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5000)])
    team = SelectField(_l("Territory or team that evaluates"), choices=[], validators=[Optional()], validate_choice=False)
    due = DateField(_l("Evaluation due date"), validators=[Optional()])
    signalement_on = DateField(_l("Date of the signalement"), validators=[Optional()])
    transfer_to = StringField(_l("Département to transfer to (number)"), validators=[Optional(), Length(max=3)])
    linked_reference = StringField(_l("Reference of the existing IP"), validators=[Optional(), Length(max=20)])


class StaffMessageForm(BaseForm):
    body = TextAreaField(_l("Message to the sender"), validators=[DataRequired(_l("Write your message before sending it: it is empty.")), Length(max=20000)])


class StaffIntakeForm(BaseForm):
    channel = SelectField(_l("How the IP arrived"), choices=[
        ("phone", _l("Phone call")), ("post", _l("Post")), ("email", _l("E-mail")),
        ("119", _l("Transmission from the 119")), ("parquet", _l("Transmission from the parquet")),
        ("visit", _l("In person")), ("other", _l("Other"))],
        validators=[InputRequired(_l("Choose how the IP arrived."))])
    source_type = SelectField(_l("Who is the sender?"), choices=[
        ("public", _l("A member of the public or of the family")), ("professional", _l("A professional")),
        ("elected", _l("An elected official (mayor…)")),
        ("young", _l("A young person about themselves or a friend"))],
        validators=[InputRequired(_l("Choose who the sender is."))])


class LanguageForm(BaseForm):
    language = SelectField(_l("Language of the back office"), choices=[],
                           validators=[InputRequired(_l("Choose a language."))])


class DutyDateForm(BaseForm):
    """The day a legal duty was done: feedback to the sender, written notice to the parents."""
    on = DateField(_l("Date"), validators=[InputRequired(_l("Give the date."))])


class TransferForm(BaseForm):
    # which CRIP may receive it is portal.domain.transfer's rule (TransferError "same", "not_served")
    destination = SelectField(_l("CRIP to transfer to"), choices=[], validate_choice=False,
                              validators=[InputRequired(_l("Choose the CRIP to transfer to."))])


class AccountForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=120)])
    email = StringField(_l("Work e-mail address"), validators=[DataRequired(_l("Enter a valid e-mail address.")), Length(max=200)])
    role = SelectField(_l("Role"), choices=[], validators=[InputRequired(_l("Choose a role."))])
    territory = SelectField(_l("Territory (territorial evaluators only)"), choices=[], validators=[Optional()])


class FirstPasswordForm(BaseForm):
    new = PasswordField(_l("Your new password"), description=_l("12 characters at least."),
                        validators=[InputRequired(_l("Enter a new password.")),
                                    Length(min=12, max=200, message=_l("Use 12 to 200 characters."))])
    confirm = PasswordField(_l("The same password again"),
                            validators=[InputRequired(_l("Enter the password again.")),
                                        EqualTo("new", message=_l("The two passwords are not the same."))])
