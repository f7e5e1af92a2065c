"""WSGI entry points: `gunicorn wsgi:app` (public site and back office), `gunicorn wsgi:crip_app` (back office only)."""
import os

from portal import create_app

app = create_app()
crip_app = create_app({"PORTAL_SERVES": ["crip"]}) if os.environ.get("PORTAL_CRIP_APP", "1") == "1" else None
