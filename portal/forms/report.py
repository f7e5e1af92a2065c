"""The IP form, one class per step. Validation is server-side only; every step works without JavaScript."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from .base import BaseForm
from wtforms import (
    BooleanField, DateField, FieldList, FormField, IntegerField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import LANGUAGES

SHORT = 120
LONG = 20000


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(_l("The date cannot be in the future."))


SOURCE_CHOICES = [
    ("public", _l("A member of the public or of the family (neighbour, relative, friend…)")),
    ("professional", _l("A professional (school, health, social work, childcare, sport and leisure, police or justice…)")),
    ("young", _l("A young person: I am writing about myself or about a friend")),
]
SECTOR_CHOICES = [
    ("", _l("Choose your sector")),
    ("school", _l("School (Éducation nationale, private school)")),
    ("health", _l("Health (doctor, hospital, PMI, nurse…)")),
    ("social", _l("Social work")),
    ("childcare", _l("Childcare (nursery, childminder)")),
    ("leisure", _l("Sport, leisure, culture")),
    ("police_justice", _l("Police, gendarmerie or justice")),
    ("other", _l("Other")),
]
SEX_CHOICES = [("x", _l("I don't know / other")), ("f", _l("Girl")), ("m", _l("Boy"))]
AGE_ESTIMATE_CHOICES = [
    ("", _l("Choose")), ("0-1", _l("Baby (under 2)")), ("2-5", _l("2 to 5 years old")),
    ("6-10", _l("6 to 10 years old")), ("11-14", _l("11 to 14 years old")),
    ("15-17", _l("15 to 17 years old")), ("unknown", _l("I don't know")),
]
LIVES_WITH_CHOICES = [
    ("", _l("Choose")), ("both_parents", _l("Both parents")), ("mother", _l("Mother")),
    ("father", _l("Father")), ("alternating", _l("Alternately with each parent")),
    ("family", _l("Other family members")), ("placement", _l("Foster family or children's home")),
    ("other", _l("Someone else")), ("unknown", _l("I don't know")),
]
CATEGORY_LABELS = {
    "physical": _l("Physical violence"),
    "psychological": _l("Psychological violence (threats, humiliation…)"),
    "sexual": _l("Sexual violence"),
    "neglect": _l("Neglect (food, care, hygiene, supervision)"),
    "domestic_violence": _l("Exposure to violence between adults at home"),
    "upbringing": _l("Conditions of upbringing (housing, school absence, isolation…)"),
    "risky_behaviour": _l("Risky behaviour (running away, drugs, self-harm…)"),
    "unaccompanied": _l("Unaccompanied minor (a child alone, without family in France)"),
    "other": _l("Something else"),
}
SINCE_CHOICES = [
    ("", _l("Choose")), ("days", _l("A few days")), ("weeks", _l("A few weeks")),
    ("months", _l("A few months")), ("year", _l("More than a year")), ("unknown", _l("I don't know")),
]
DANGER_CHOICES = [("no", _l("No")), ("yes", _l("Yes")), ("unknown", _l("I don't know"))]
RELATION_CHOICES = [
    ("", _l("Choose")), ("mother", _l("Mother")), ("father", _l("Father")),
    ("stepparent", _l("Step-parent or partner of a parent")), ("grandparent", _l("Grandparent")),
    ("sibling", _l("Brother or sister")), ("other_family", _l("Other family")),
    ("other", _l("Other")),
]
SENDER_RELATION_CHOICES = [
    ("", _l("Choose")), ("family", _l("Family")), ("neighbour", _l("Neighbour")),
    ("friend", _l("Friend of the family")), ("self", _l("I am the child or young person")),
    ("friend_young", _l("A friend of the young person")), ("other", _l("Other")),
]
YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
SIGNALEMENT_CHOICES = [("no", _l("No")), ("yes", _l("Yes, already sent")), ("planned", _l("Not yet, it will be sent"))]


class StepForm(BaseForm):
    """Cross-field rules live in validate_<field> methods; a field that has one must not carry
    Optional(), which would stop validation before the rule runs on an empty value."""


class WhoForm(StepForm):
    source_type = RadioField(_l("Who are you?"), choices=SOURCE_CHOICES,
                             validators=[InputRequired(_l("Choose who you are."))])
    sector = SelectField(_l("Your sector"), choices=SECTOR_CHOICES, default="")

    def validate_sector(self, field):
        if self.source_type.data == "professional" and not field.data:
            raise ValidationError(_l("Choose your sector."))


class ChildForm(StepForm):
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=SHORT)],
                             description=_l("Leave empty if you don't know."))
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=SHORT)],
                            description=_l("Leave empty if you don't know."))
    birth_date = DateField(_l("Date of birth"), validators=[Optional(), not_in_future],
                           description=_l("If you know it."))
    age = IntegerField(_l("Age in years"), validators=[Optional(), NumberRange(0, 21, _l("Enter an age between 0 and 21."))],
                       description=_l("If you don't know the date of birth."))
    age_estimate = SelectField(_l("Approximate age"), choices=AGE_ESTIMATE_CHOICES, validators=[Optional()],
                               description=_l("If you know neither the date of birth nor the age."), default="")
    sex = RadioField(_l("Sex"), choices=SEX_CHOICES, default="x", validators=[Optional()])
    school = StringField(_l("School and class"), validators=[Optional(), Length(max=SHORT)],
                         description=_l("For example: École Jules Ferry, CE2."))
    postcode = StringField(_l("Postcode where the child lives"), validators=[Length(max=10)],
                           description=_l("5 digits, for example 31000. Used to send your report to the right team."))
    commune = SelectField(_l("Commune"), choices=[], validators=[Optional()], validate_choice=False, default="")
    postcode_unknown = BooleanField(_l("I don't know where the child lives"))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)],
                          description=_l("If you know it: street and number."))
    lives_with = SelectField(_l("Who does the child live with?"), choices=LIVES_WITH_CHOICES,
                             validators=[Optional()], default="")

    def validate_postcode(self, field):
        from ..domain import routing
        if field.data and routing.normalize_postcode(field.data) is None:
            raise ValidationError(_l("Enter a postcode of 5 digits, for example 31000."))
        if not field.data and not self.postcode_unknown.data:
            raise ValidationError(_l("Enter the postcode, or tick “I don't know where the child lives”."))

    def validate_age(self, field):
        if self.birth_date.data and field.data is not None:
            from ..domain.priority import age_on
            if abs(age_on(self.birth_date.data, date.today()) - field.data) > 1:
                raise ValidationError(_l("The age does not match the date of birth."))


class YoungChildForm(ChildForm):
    """The young-person path: fewer, plainer questions; only where the child lives is asked for."""
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=SHORT)],
                             description=_l("Of you, or of your friend. You can leave it empty."))


class AdultsForm(StepForm):
    adult1_name = StringField(_l("Name"), validators=[Optional(), Length(max=SHORT)])
    adult1_relation = SelectField(_l("Relation to the child"), choices=RELATION_CHOICES, validators=[Optional()], default="")
    adult1_contact = StringField(_l("Address or phone, if known"), validators=[Optional(), Length(max=300)])
    adult2_name = StringField(_l("Name"), validators=[Optional(), Length(max=SHORT)])
    adult2_relation = SelectField(_l("Relation to the child"), choices=RELATION_CHOICES, validators=[Optional()], default="")
    adult2_contact = StringField(_l("Address or phone, if known"), validators=[Optional(), Length(max=300)])
    others = TextAreaField(_l("Other adults or children in the household"), validators=[Optional(), Length(max=LONG)],
                           description=_l("For example brothers and sisters, a partner, grandparents."))


class ConcernForm(StepForm):
    categories = MultiCheckboxField(_l("What worries you?"), choices=list(CATEGORY_LABELS.items()),
                                    validators=[InputRequired(_l("Choose at least one kind of worry."))])
    account = TextAreaField(_l("Describe what you saw, heard or were told"),
                            validators=[InputRequired(_l("Describe what worries you.")), Length(max=LONG)],
                            description=_l("Facts, with dates if you have them, and who told you. Write in your own language if you prefer."))
    since = SelectField(_l("Since when?"), choices=SINCE_CHOICES, validators=[Optional()], default="")
    danger_now = RadioField(_l("Is the child in danger right now?"), choices=DANGER_CHOICES,
                            validators=[InputRequired(_l("Answer whether the child is in danger right now."))])


class YoungConcernForm(ConcernForm):
    account = TextAreaField(_l("What is happening?"),
                            validators=[InputRequired(_l("Write a few words about what is happening.")), Length(max=LONG)],
                            description=_l("Write it as you would say it. Short is fine."))


class FactForm(BaseForm):
    class Meta:
        csrf = False
    when = DateField(_l("Date"), validators=[Optional(), not_in_future])
    what = TextAreaField(_l("Fact observed"), validators=[Optional(), Length(max=LONG)])


class ProfessionalForm(StepForm):
    establishment = StringField(_l("Establishment or service"), validators=[InputRequired(_l("Enter your establishment or service.")), Length(max=200)])
    establishment_address = StringField(_l("Address of the establishment"), validators=[Optional(), Length(max=300)])
    author_name = StringField(_l("Your name"), validators=[InputRequired(_l("Enter your name.")), Length(max=SHORT)])
    author_role = StringField(_l("Your role"), validators=[InputRequired(_l("Enter your role.")), Length(max=SHORT)],
                              description=_l("For example: head teacher, school nurse, social worker."))
    author_phone = StringField(_l("Professional phone"), validators=[Length(max=30)])
    author_email = StringField(_l("Professional e-mail"), validators=[Optional(), Email(_l("Enter a valid e-mail address.")), Length(max=200)])
    facts = FieldList(FormField(FactForm), min_entries=3, max_entries=20)
    child_words = TextAreaField(_l("The child's own words"), validators=[Optional(), Length(max=LONG)],
                                description=_l("Write them exactly as said, in quotation marks, without interpreting."))
    context = TextAreaField(_l("Family and social context"), validators=[Optional(), Length(max=LONG)])
    actions = TextAreaField(_l("Actions already taken"), validators=[Optional(), Length(max=LONG)])
    parents_told = RadioField(_l("Were the parents told about this report?"), choices=YES_NO,
                              validators=[InputRequired(_l("Say whether the parents were told."))])
    parents_not_told_why = TextAreaField(_l("If not, why?"), validators=[Length(max=LONG)],
                                         description=_l("For example: telling them would put the child at risk."))
    hierarchy_copy = RadioField(_l("Is a copy sent to your hierarchy (for schools: IEN or DASEN)?"), choices=YES_NO,
                                validators=[InputRequired(_l("Say whether a copy is sent to your hierarchy."))])
    signalement = RadioField(_l("Has a signalement been sent to the procureur de la République?"), choices=SIGNALEMENT_CHOICES,
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


class SenderForm(StepForm):
    anonymous = RadioField(_l("Do you want to give your name?"),
                           choices=[("no", _l("Yes, the CRIP may contact me")), ("yes", _l("No, I want to stay anonymous"))],
                           validators=[InputRequired(_l("Choose whether you give your name."))])
    name = StringField(_l("Your name"), validators=[Length(max=SHORT)])
    relation = SelectField(_l("Your relation to the child"), choices=SENDER_RELATION_CHOICES, validators=[Optional()], default="")
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(_l("Enter a valid e-mail address.")), Length(max=200)])
    contact_language = SelectField(_l("Language you prefer to be contacted in"),
                                   choices=[(code, name) for code, name, _d in LANGUAGES], default="fr")
    wants_feedback = BooleanField(_l("I would like to know what follows my report"),
                                  description=_l("The CRIP answers within 3 months, as far as the child's interest and professional secrecy allow."))

    def validate_name(self, field):
        if self.anonymous.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("Enter your name, or choose to stay anonymous."))

    def validate_phone(self, field):
        if self.anonymous.data == "no" and not (field.data or "").strip() and not (self.email.data or "").strip():
            raise ValidationError(_l("Give a phone number or an e-mail address, or choose to stay anonymous."))


class ProfessionalSenderForm(StepForm):
    contact_language = SelectField(_l("Language you prefer to be contacted in"),
                                   choices=[(code, name) for code, name, _d in LANGUAGES], default="fr")


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
    body = TextAreaField(_l("Your message"), validators=[InputRequired(_l("Write your message.")), Length(max=LONG)])
