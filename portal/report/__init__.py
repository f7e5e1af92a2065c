from flask import Blueprint

from ..web import pull_departement, push_departement

bp = Blueprint("report", __name__)
bp.url_value_preprocessor(pull_departement)
bp.url_defaults(push_departement)

from . import common, files, followup, sending, steps  # noqa: E402,F401
