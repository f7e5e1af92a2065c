"""The IP form: each step's form built from the one declaration (portal/domain/questionnaire.py), and the
forms of sending and follow-up. Validation is server-side only; every step works without JavaScript."""
from __future__ import annotations

import functools
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from .base import BaseForm, form_data
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


# Every step's form is built from the one declaration (portal/domain/questionnaire.py): labels, hints,
# answer vocabularies, what is required and when, what is checked. Nothing about a question is here.

def choices(vocabulary, placeholder=None) -> list:
    items = [(code, label if vocabulary in Q.UNTRANSLATED else _l(label)) for code, label in vocabulary.items]
    return ([("", _l(placeholder))] if placeholder else []) + items


class StepForm(BaseForm):
    pass


class FactForm(BaseForm):
    class Meta:
        csrf = False
    when = DateField(_l("Date"), validators=[Optional(), not_in_future])
    what = TextAreaField(_l("Fact observed"), validators=[Optional(), Length(max=LONG)])


class DeclaredForm(StepForm):
    """A step's form. Its fields check their own type (a date, a number, a length); `validate` then
    applies the declaration's rules: what is required when, and each question's own check."""
    _step: Q.Step                # (underscored: a question's key may be any word, "context" included)
    _variant: str
    _answers: dict = {}          # the report so far (conditions on earlier answers read it)

    def with_answers(self, answers: dict):
        self._answers = answers
        return self

    def _context(self, data: dict) -> dict:
        section = self._step.section
        if section is None:
            return dict(self._answers or {}, **data)
        return dict(self._answers or {}, **({} if self._step.repeated else {section: data}))

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        data = form_data(self)
        answers = self._context(data)
        for q in self._step.asked(self._variant):
            if not Q.is_shown(q, data, answers):
                self[q.key].errors = []         # an answer not asked is not judged (it is not kept either)
        for key, msgid in Q.problems(self._step, self._variant, data, answers).items():
            if not self[key].errors:
                self[key].errors = [*self[key].errors, _l(msgid)]
        self._errors = None
        return not self.errors


def _text(q, v, kw):
    return StringField(validators=[Optional(), Length(max=q.max_length or SHORT)], **kw)


def _email(q, v, kw):
    return StringField(validators=[Optional(), Email(_l("Enter a valid e-mail address.")),
                                   Length(max=q.max_length or SHORT)], **kw)


def _int(q, v, kw):
    lowest, highest, message = q.range or (None, None, None)
    return IntegerField(validators=[Optional(), NumberRange(lowest, highest, _l(message) if message else None)], **kw)


def _choice(q, v, kw):
    default = q.text("default", v) or ""
    return SelectField(choices=choices(q.vocabulary_for(v), q.placeholder), validators=[Optional()],
                       default=default if default != Q.LOCALE else "fr", **kw)


FIELDS = {
    "text": _text, "tel": _text, "email": _email, "int": _int, "choice": _choice,
    "long": lambda q, v, kw: TextAreaField(validators=[Optional(), Length(max=q.max_length or LONG)], **kw),
    "date": lambda q, v, kw: DateField(validators=[Optional(), not_in_future], **kw),
    "radio": lambda q, v, kw: RadioField(choices=choices(q.vocabulary_for(v)), validators=[Optional()], **kw),
    "multi": lambda q, v, kw: MultiCheckboxField(choices=choices(q.vocabulary_for(v)), validators=[Optional()], **kw),
    "bool": lambda q, v, kw: BooleanField(**kw),
    "facts": lambda q, v, kw: FieldList(FormField(FactForm), min_entries=3, max_entries=20, **kw),
    "place": lambda q, v, kw: StringField(validators=[Length(max=10)], **kw),
}


@functools.cache
def step_form(step: Q.Step, variant: str) -> type:
    """The form class of a step as a given path (or variant) asks it. Built once per step and variant
    (the declaration does not change while the process runs; labels stay lazy, translated when shown):
    WTForms then also lists the class's fields once, not on every request."""
    fields = {"_step": step, "_variant": variant}
    for q in step.asked(variant):
        hint = q.text("hint", variant)
        kw = {"label": _l(q.text("label", variant)), "description": _l(hint) if hint else ""}
        fields[q.key] = FIELDS[q.kind](q, variant, kw)
        if q.kind == "place":
            fields["commune"] = SelectField(_l("Commune"), choices=[], validators=[Optional()], validate_choice=False,
                                            default="")
            fields["postcode_unknown"] = BooleanField(_l(q.text("unknown_label", variant)))
    return type(f"{step.slug.capitalize()}Form", (DeclaredForm,), fields)


def declared_forms() -> list:
    """Every step's form as each path asks it (the outage page, which cannot load a draft, picks one)."""
    return [step_form(step, variant) for variant in (*Q.PATHS, Q.YOUNG_FRIEND)
            for step in Q.STEPS.values() if step.kind == "questions"]


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
