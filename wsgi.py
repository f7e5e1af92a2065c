"""WSGI entry points.

    gunicorn wsgi:app        the public site (and the back office, unless PORTAL_SERVES says otherwise)
    gunicorn wsgi:crip_app   the back office alone, e.g. on an internal host

`crip_app` is built only when asked for, so a public worker does not pay for it at start-up.
"""
import gc

from portal import create_app

app = create_app()
# What start-up built (the app, its templates, profiles, catalogs) lives as long as the worker: the
# cyclic garbage collector need not walk through it again on each full collection (measured in-process
# over 600 public pages: 0.65 ms of CPU per page, of which 0.5 ms in collections; 0.44 ms frozen).
gc.collect()
gc.freeze()


def __getattr__(name):
    if name == "crip_app":
        global crip_app
        crip_app = create_app({"PORTAL_SERVES": ["crip"]})
        return crip_app
    raise AttributeError(name)
