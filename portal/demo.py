"""Demo data for the embedded default (idempotent)."""


def seed(session, app):
    return None
