from flask import render_template
from . import bp


@bp.get("/")
def start():
    return render_template("public/home.html")


@bp.get("/suivi")
def followup():
    return render_template("public/home.html")
