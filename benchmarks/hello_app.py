"""The baseline of benchmarks/pages.py: a bare Flask app, served by gunicorn with the same settings
as the portal (`python -m gunicorn -w 2 -b 127.0.0.1:PORT --access-logfile /dev/null benchmarks.hello_app:app`
from the project root)."""
from flask import Flask

app = Flask(__name__)

PAGE = ("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Bonjour</title></head>"
        "<body><h1>Bonjour</h1></body></html>")


@app.get("/")
def hello():
    return PAGE
