"""Flask-WTF form classes. Labels and messages are lazy_gettext message ids in English."""
