"""WSGI entry points.

    gunicorn wsgi:app        the public site (and the back office, unless PORTAL_SERVES says otherwise)
    gunicorn wsgi:crip_app   the back office alone, e.g. on an internal host

`crip_app` is built only when asked for, so a public worker does not pay for it at start-up.
"""
from portal import create_app

app = create_app()


def __getattr__(name):
    if name == "crip_app":
        global crip_app
        crip_app = create_app({"PORTAL_SERVES": ["crip"]})
        return crip_app
    raise AttributeError(name)
