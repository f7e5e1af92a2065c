from flask import Blueprint

bp = Blueprint("crip", __name__)

from . import views  # noqa: E402,F401
