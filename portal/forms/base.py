"""The base of every form: WTForms' and Flask-WTF's own messages go through this project's
catalogs (so they exist in every language the site speaks, Pashto included)."""
from __future__ import annotations

import functools

from flask_babel import get_translations, lazy_gettext as _l, lazy_ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets import core as widgets_core


class _ProjectTranslations:
    """Look-up only: WTForms formats its own placeholders (%(max)d …) after translation."""

    def gettext(self, string):
        return get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ngettext(singular, plural, n)


def form_data(form) -> dict:
    """A form's data as JSON-able values (dates as ISO strings), without the CSRF token."""
    from datetime import date, datetime

    def clean(value):
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k != "csrf_token"}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value
    return clean({k: v for k, v in form.data.items() if k != "csrf_token"})


@functools.lru_cache(maxsize=512)
def _attribute_name(key: str) -> str:
    """An attribute's name as WTForms writes it (`data_x` → `data-x`, escaped): the same few dozen
    names on every page."""
    return str(escape(widgets_core.clean_key(key)))


def _html_params(**kwargs) -> Markup:
    """WTForms' `html_params`, with the very same output (attributes sorted by name, values escaped,
    `True` a bare attribute, `False` left out), without formatting each attribute through
    `Markup.format`: on a form page that formatting cost a fifth of the whole request."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = _attribute_name(key)
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


WTFORMS_HTML_PARAMS = widgets_core.html_params      # the original, which tests compare with
widgets_core.html_params = widgets.html_params = _html_params
widgets_core.Input.html_params = widgets_core.Button.html_params = staticmethod(_html_params)
# A select looks up the signature of its option renderer on every rendering: once per class is enough.
widgets_core.Select._dispatch_render_option = classmethod(
    functools.cache(widgets_core.Select._dispatch_render_option.__func__))


class BaseForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _ProjectTranslations()


# The library messages our fields can show, marked here so that extraction puts them in the catalogs.
LIBRARY_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Invalid email address."),
    _l("Invalid input."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("The CSRF token is missing."),
    _l("The CSRF token has expired."),
    _l("The CSRF token is invalid."),
    _l("The CSRF tokens do not match."),
    _l("The CSRF session token is missing."),
    lazy_ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 2),
    lazy_ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 2),
    lazy_ngettext("'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 2),
)
