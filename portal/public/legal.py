"""Facts the privacy notice, legal notice and accessibility statement state, read from the profile
and the settings (never written into a template): retention per outcome, what the Département must
still provide."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l, ngettext


@dataclass(frozen=True)
class RetentionRule:
    outcome: str        # words, in the reader's language
    period: str         # "2 years after the decision" …


def period_text(days: int, after) -> str:
    """730 -> "2 years after the decision"; 45 -> "45 days after the decision"."""
    if days % 365 == 0:
        length = ngettext("%(num)s year", "%(num)s years", days // 365)
    else:
        length = ngettext("%(num)s day", "%(num)s days", days)
    return str(after) % {"length": length}


# Outcomes of an IP, in the words of the public pages, with the settings that keep each one (the
# first one present wins; RETENTION_CLOSED_DAYS is the one every version of the settings has).
OUTCOMES = (
    (_l("No further action (classement sans suite)"), ("RETENTION_NO_FOLLOWUP_DAYS", "RETENTION_CLOSED_DAYS")),
    (_l("Help agreed with the parents (administrative protection)"), ("RETENTION_HELP_DAYS", "RETENTION_CLOSED_DAYS")),
    (_l("Referral to the public prosecutor or the judge for children"),
     ("RETENTION_JUDICIAL_DAYS", "RETENTION_CLOSED_DAYS")),
    (_l("Transfer to the CRIP of another département"), ("RETENTION_PASSED_ON_DAYS", "RETENTION_CLOSED_DAYS")),
    (_l("Linked to an existing file of the same child"), ("RETENTION_PASSED_ON_DAYS", "RETENTION_CLOSED_DAYS")),
)
UNDECIDED = _l("Not yet decided")


def retention_rules() -> list[RetentionRule]:
    """One rule per outcome, as `flask --app portal purge` applies them."""
    config = current_app.config
    after_decision = _l("%(length)s after the decision")
    rules = []
    for outcome, keys in OUTCOMES:
        days = next((config[k] for k in keys if config.get(k)), None)
        if days:
            rules.append(RetentionRule(str(outcome), period_text(int(days), after_decision)))
    undecided = config.get("RETENTION_UNDECIDED_DAYS")
    if undecided:
        rules.append(RetentionRule(str(UNDECIDED),
                                   period_text(int(undecided), _l("%(length)s after the report was received"))))
    else:
        rules.append(RetentionRule(str(UNDECIDED), str(_l("kept until a decision is taken; then the period of that decision applies"))))
    return rules


def legal_context() -> dict:
    return {"retention_rules": retention_rules}
