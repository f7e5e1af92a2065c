"""The IP form, one class per step. Validation is server-side only; every step works without JavaScript."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from .base import BaseForm
from wtforms import (
    BooleanField, DateField, FieldList, FormField, IntegerField, MultipleFileField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain import questionnaire as Q
from ..domain.priority import paris_date

SHORT = 120
LONG = 20000


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _paris_today():
    return paris_date(datetime.now(timezone.utc))


def not_in_future(form, field):
    if field.data and field.data > _paris_today():
        raise ValidationError(_l("The date cannot be in the future."))


# Labels, hints and answer vocabularies come from the one declaration (portal/domain/questionnaire.py).
CHOOSE = ("", _l("Choose"))


def choices(vocabulary, placeholder=None) -> list:
    items = [(code, label if vocabulary in Q.UNTRANSLATED else _l(label)) for code, label in vocabulary.items]
    return ([placeholder] if placeholder else []) + items


def label(step, key, path=Q.PUBLIC):
    return _l(Q.question(step, key).text("label", path))


def hint(step, key, path=Q.PUBLIC):
    text = Q.question(step, key).text("hint", path)
    return _l(text) if text else ""


SOURCE_CHOICES = choices(Q.SOURCES)
SECTOR_CHOICES = choices(Q.SECTORS, ("", _l("Choose your sector")))
SEX_CHOICES = choices(Q.SEXES)
AGE_ESTIMATE_CHOICES = choices(Q.AGE_BANDS, CHOOSE)
LIVES_WITH_CHOICES = choices(Q.LIVES_WITH, CHOOSE)
CATEGORY_LABELS = dict(choices(Q.CATEGORIES))
SINCE_CHOICES = choices(Q.SINCE, CHOOSE)
DANGER_CHOICES = choices(Q.DANGER)
RELATION_CHOICES = choices(Q.RELATIONS, CHOOSE)
SENDER_RELATION_CHOICES = choices(Q.SENDER_RELATIONS, CHOOSE)
YES_NO = choices(Q.YES_NO)
SIGNALEMENT_CHOICES = choices(Q.SIGNALEMENT)
PARENTAL_AUTHORITY_CHOICES = choices(Q.PARENTAL_AUTHORITY, CHOOSE)
LANGUAGE_CHOICES = choices(Q.LANGUAGE_NAMES)


class StepForm(BaseForm):
    """Cross-field rules live in validate_<field> methods; a field that has one must not carry
    Optional(), which would stop validation before the rule runs on an empty value."""


class WhoForm(StepForm):
    source_type = RadioField(label(Q.WHO, "source_type"), choices=SOURCE_CHOICES,
                             validators=[InputRequired(_l("Choose who you are."))])
    sector = SelectField(label(Q.WHO, "sector"), choices=SECTOR_CHOICES, default="")

    def validate_sector(self, field):
        if self.source_type.data == Q.PROFESSIONAL and not field.data:
            raise ValidationError(_l("Choose your sector."))


def _child_field(key, cls, path=Q.PUBLIC, **kw):
    return cls(label(Q.CHILD, key, path), description=hint(Q.CHILD, key, path), **kw)


class ChildForm(StepForm):
    first_name = _child_field("first_name", StringField, validators=[Optional(), Length(max=SHORT)])
    last_name = _child_field("last_name", StringField, validators=[Optional(), Length(max=SHORT)])
    birth_date = _child_field("birth_date", DateField, validators=[Optional(), not_in_future])
    age = _child_field("age", IntegerField, validators=[Optional(), NumberRange(0, 21, _l("Enter an age between 0 and 21."))])
    age_estimate = _child_field("age_estimate", SelectField, choices=AGE_ESTIMATE_CHOICES, validators=[Optional()], default="")
    sex = _child_field("sex", RadioField, choices=SEX_CHOICES, validators=[Optional()])
    school = _child_field("school", StringField, validators=[Optional(), Length(max=SHORT)])
    postcode = _child_field("postcode", StringField, validators=[Length(max=10)])
    commune = SelectField(_l("Commune"), choices=[], validators=[Optional()], validate_choice=False, default="")
    postcode_unknown = BooleanField(_l("I don't know where the child lives"))
    address = _child_field("address", StringField, validators=[Optional(), Length(max=300)])
    lives_with = _child_field("lives_with", SelectField, choices=LIVES_WITH_CHOICES, validators=[Optional()], default="")

    def validate_postcode(self, field):
        from ..domain import routing
        if field.data and routing.normalize_postcode(field.data) is None:
            raise ValidationError(_l("Enter a postcode of 5 digits, for example 31000."))
        if not field.data and not self.postcode_unknown.data:
            raise ValidationError(_l("Enter the postcode, or tick “I don't know where the child lives”."))

    def validate_age(self, field):
        if self.birth_date.data and field.data is not None:
            from ..domain.priority import age_on
            if abs(age_on(self.birth_date.data, _paris_today()) - field.data) > 1:
                raise ValidationError(_l("The age does not match the date of birth."))


class YoungChildForm(ChildForm):
    """The young-person path: fewer, plainer questions; only where the child lives is asked for."""
    first_name = _child_field("first_name", StringField, Q.YOUNG, validators=[Optional(), Length(max=SHORT)])


def _adult(key, cls, **kw):
    return cls(label(Q.ADULTS, key), description=hint(Q.ADULTS, key), **kw)


class AdultsForm(StepForm):
    adult1_name = _adult("adult1_name", StringField, validators=[Optional(), Length(max=SHORT)])
    adult1_relation = _adult("adult1_relation", SelectField, choices=RELATION_CHOICES, validators=[Optional()], default="")
    adult1_contact = _adult("adult1_contact", StringField, validators=[Optional(), Length(max=300)])
    adult2_name = _adult("adult2_name", StringField, validators=[Optional(), Length(max=SHORT)])
    adult2_relation = _adult("adult2_relation", SelectField, choices=RELATION_CHOICES, validators=[Optional()], default="")
    adult2_contact = _adult("adult2_contact", StringField, validators=[Optional(), Length(max=300)])
    others = _adult("others", TextAreaField, validators=[Optional(), Length(max=LONG)])


def _concern(key, cls, path=Q.PUBLIC, **kw):
    return cls(label(Q.CONCERN, key, path), description=hint(Q.CONCERN, key, path), **kw)


class ConcernForm(StepForm):
    categories = _concern("categories", MultiCheckboxField, choices=choices(Q.CATEGORIES),
                          validators=[InputRequired(_l("Choose at least one kind of worry."))])
    account = _concern("account", TextAreaField,
                       validators=[InputRequired(_l("Describe what worries you.")), Length(max=LONG)])
    since = _concern("since", SelectField, choices=SINCE_CHOICES, validators=[Optional()], default="")
    danger_now = _concern("danger_now", RadioField, choices=DANGER_CHOICES,
                          validators=[InputRequired(_l("Answer whether the child is in danger right now."))])


class YoungConcernForm(ConcernForm):
    categories = _concern("categories", MultiCheckboxField, Q.YOUNG, choices=choices(Q.YOUNG_WORRIES),
                          # Translators: familiar register (tu)
                          validators=[InputRequired(_l("Choose at least one thing that is happening."))])
    account = _concern("account", TextAreaField, Q.YOUNG,
                       validators=[InputRequired(_l("Write a few words about what is happening.")), Length(max=LONG)])
    danger_now = _concern("danger_now", RadioField, Q.YOUNG, choices=choices(Q.YOUNG_DANGER),
                          # Translators: familiar register (tu)
                          validators=[InputRequired(_l("Answer whether you are in danger right now."))])


class ProfessionalConcernForm(ConcernForm):
    """A professional's dated facts are the account: the free text is only for what they do not carry."""
    account = _concern("account", TextAreaField, Q.PROFESSIONAL, validators=[Optional(), Length(max=LONG)])


class FactForm(BaseForm):
    class Meta:
        csrf = False
    when = DateField(_l("Date"), validators=[Optional(), not_in_future])
    what = TextAreaField(_l("Fact observed"), validators=[Optional(), Length(max=LONG)])


def _pro(key, cls, **kw):
    return cls(label(Q.PRO, key), description=hint(Q.PRO, key), **kw)


class ProfessionalForm(StepForm):
    establishment = _pro("establishment", StringField, validators=[InputRequired(_l("Enter your establishment or service.")), Length(max=200)])
    establishment_address = _pro("establishment_address", StringField, validators=[Optional(), Length(max=300)])
    head_name = _pro("head_name", StringField, validators=[Optional(), Length(max=SHORT)])
    author_name = _pro("author_name", StringField, validators=[InputRequired(_l("Enter your name.")), Length(max=SHORT)])
    author_role = _pro("author_role", StringField, validators=[InputRequired(_l("Enter your role.")), Length(max=SHORT)])
    author_phone = _pro("author_phone", StringField, validators=[Length(max=30)])
    author_email = _pro("author_email", StringField, validators=[Optional(), Email(_l("Enter a valid e-mail address.")), Length(max=200)])
    facts = FieldList(FormField(FactForm), min_entries=3, max_entries=20)
    child_spoke_on = _pro("child_spoke_on", DateField, validators=[Optional(), not_in_future])
    child_spoke_how = _pro("child_spoke_how", TextAreaField, validators=[Optional(), Length(max=LONG)])
    child_words = _pro("child_words", TextAreaField, validators=[Optional(), Length(max=LONG)])
    parental_authority = _pro("parental_authority", SelectField, choices=PARENTAL_AUTHORITY_CHOICES,
                              validators=[Optional()], default="")
    context = _pro("context", TextAreaField, validators=[Optional(), Length(max=LONG)])
    other_services = _pro("other_services", TextAreaField, validators=[Optional(), Length(max=LONG)])
    actions = _pro("actions", TextAreaField, validators=[Optional(), Length(max=LONG)])
    parents_told = _pro("parents_told", RadioField, choices=YES_NO,
                        validators=[InputRequired(_l("Say whether the parents were told."))])
    parents_not_told_why = _pro("parents_not_told_why", TextAreaField, validators=[Length(max=LONG)])
    hierarchy_copy = _pro("hierarchy_copy", RadioField, choices=YES_NO,
                          validators=[InputRequired(_l("Say whether a copy is sent to your hierarchy."))])
    signalement = _pro("signalement", RadioField, choices=SIGNALEMENT_CHOICES,
                       validators=[InputRequired(_l("Say whether a signalement was sent to the procureur."))])

    def validate_author_phone(self, field):
        if not field.data and not self.author_email.data:
            raise ValidationError(_l("Give a phone number or an e-mail address so the CRIP can reach you."))

    def validate_parents_not_told_why(self, field):
        if self.parents_told.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("Explain why the parents were not told."))

    def validate_facts(self, field):
        if not any((entry.form.what.data or "").strip() for entry in field.entries):
            raise ValidationError(_l("Describe at least one fact, with its date if you know it."))
        for entry in field.entries:
            if entry.form.when.data and not (entry.form.what.data or "").strip():
                raise ValidationError(_l("Each date needs the fact observed that day."))


def _sender(key, cls, **kw):
    return cls(label(Q.SENDER, key), description=hint(Q.SENDER, key), **kw)


class SenderForm(StepForm):
    anonymous = _sender("anonymous", RadioField, choices=choices(Q.ANONYMOUS),
                        validators=[InputRequired(_l("Choose whether you give your name."))])
    name = _sender("name", StringField, validators=[Length(max=SHORT)])
    relation = _sender("relation", SelectField, choices=SENDER_RELATION_CHOICES, validators=[Optional()], default="")
    phone = _sender("phone", StringField, validators=[Length(max=30)])
    email = _sender("email", StringField, validators=[Optional(), Email(_l("Enter a valid e-mail address.")), Length(max=200)])
    contact_language = _sender("contact_language", SelectField, choices=LANGUAGE_CHOICES, default="fr")
    wants_feedback = _sender("wants_feedback", BooleanField)

    def validate_name(self, field):
        if self.anonymous.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("Enter your name, or choose to stay anonymous."))

    def validate_phone(self, field):
        if self.anonymous.data == "no" and not (field.data or "").strip() and not (self.email.data or "").strip():
            raise ValidationError(_l("Give a phone number or an e-mail address, or choose to stay anonymous."))


class ProfessionalSenderForm(StepForm):
    contact_language = _sender("contact_language", SelectField, choices=LANGUAGE_CHOICES, default="fr")


class AttachmentForm(StepForm):
    pass


class SendForm(StepForm):
    # Honeypot: visually hidden, labelled so that a screen-reader user knows to leave it empty.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    confirm = BooleanField(_l("I confirm that what I wrote is sincere, to the best of my knowledge"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])


class FollowUpForm(StepForm):
    reference = StringField(_l("Reference"), validators=[InputRequired(_l("Enter the reference of your report.")), Length(max=30)],
                            description=_l("For example IP-7KQ2-M9XD."))
    code = StringField(_l("Follow-up code"), validators=[InputRequired(_l("Enter your follow-up code.")), Length(max=60)],
                       description=_l("20 letters and digits; spaces do not matter."))


class MessageForm(StepForm):
    """A follow-up message: words, files, or both (the view checks each file)."""
    body = TextAreaField(_l("Your message"), validators=[Length(max=LONG)])
    files = MultipleFileField(_l("Documents"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        chosen = [f for f in (self.files.data or []) if getattr(f, "filename", "")]
        if not (self.body.data or "").strip() and not chosen:
            self.body.errors = [*self.body.errors, _l("Write your message.")]
            return False
        return ok
