"""Words for the coded fields a CRIP agent reads (queue, case, statistics, exports for spreadsheets).

Each vocabulary maps a stored code to a lazily translated label; `label(vocabulary, code)` never
returns a code for a known vocabulary: an unknown code reads "Other (code)" so that nothing is hidden."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..domain.priority import AGE_BANDS, CATEGORIES

ROLES = {"agent": _l("Agent"), "supervisor": _l("Supervisor"), "evaluator": _l("Territorial evaluator"),
         "admin": _l("Administrator")}
SOURCES = {"public": _l("Member of the public or family"), "professional": _l("Professional"),
           "young": _l("Young person"), "elected": _l("Elected official (mayor…)"), "unknown": _l("Not known")}
CHANNELS = {"online": _l("Online form"), "phone": _l("Phone call"), "post": _l("Post"), "email": _l("E-mail"),
            "119": _l("The 119"), "parquet": _l("The parquet"), "visit": _l("In person"), "other": _l("Other way"),
            "unknown": _l("Not known")}
URGENCY = {1: _l("Immediate"), 2: _l("High"), 3: _l("Normal")}
AGE = {"0-1": _l("Under 2"), "2-5": _l("2 to 5 years"), "6-10": _l("6 to 10 years"), "11-14": _l("11 to 14 years"),
       "15-17": _l("15 to 17 years"), "18+": _l("18 or over"), "unknown": _l("Age not known")}
CATEGORY = {"physical": _l("Physical violence"), "psychological": _l("Psychological violence"),
            "sexual": _l("Sexual violence"), "neglect": _l("Neglect"),
            "domestic_violence": _l("Exposure to domestic violence"), "upbringing": _l("Conditions of upbringing"),
            "risky_behaviour": _l("Risky behaviour"), "unaccompanied": _l("Unaccompanied minor"),
            "other": _l("Other concern")}
STATUS = {"new": _l("New"), "analysis": _l("In analysis"), "more_info": _l("More information asked"),
          "evaluation": _l("Evaluation under way"), "closed": _l("Closed without further action"),
          "help": _l("Administrative help proposed"), "signalement": _l("Signalement to the procureur"),
          "transferred": _l("Transferred to another département"), "linked": _l("Linked to an existing IP")}
OUTCOME = dict(STATUS, pending=_l("Not yet decided"))
ROUTING = {"routed": _l("In this département"), "transfer": _l("To transfer to another département"),
           "unrouted": _l("To be routed")}
SEX = {"f": _l("Girl"), "m": _l("Boy"), "x": _l("Not known or other")}
# Why portal/domain/priority.py raised the urgency (stored comma-separated in urgency_reasons).
URGENCY_REASONS = {"danger_now": _l("A child is in danger right now"), "sexual_young_child": _l("Sexual violence"),
                   "under_2": _l("Under 2"), "sexual": _l("Sexual violence"), "physical": _l("Physical violence"),
                   "unaccompanied": _l("Unaccompanied minor"), "young_sender": _l("written by a young person")}

assert set(AGE) == set(AGE_BANDS) and set(CATEGORY) == set(CATEGORIES)


def reasons(stored: str) -> str:
    """The urgency reasons of an IP in words, in the order stored, each once."""
    words = [label(URGENCY_REASONS, code) for code in (stored or "").split(",") if code]
    return ", ".join(dict.fromkeys(words))


def label(vocabulary: dict, code) -> str:
    if code in vocabulary:
        return str(vocabulary[code])
    if code in (None, ""):
        return "—"
    return str(_l("Other (%(code)s)", code=code))
