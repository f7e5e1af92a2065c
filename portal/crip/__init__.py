"""The CRIP back office, one module per area: common (shared helpers), signin (sign-in, second factor,
sign-out, password), queue, case (reading, decisions, messages, attachments), accounts, statistics, record
(IPs taken by phone, post…), duties (legal duties on a case, transfer to another CRIP)."""
from flask import Blueprint

bp = Blueprint("crip", __name__)

from . import accounts, case, common, duties, queue, record, signin, statistics  # noqa: E402,F401
