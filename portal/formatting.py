"""Numbers, dates and times for the reader's locale (Babel), as Jinja filters."""
from __future__ import annotations

from flask_babel import (
    format_date, format_datetime, format_decimal, format_percent, format_time, get_locale,
    gettext as _,
)
from markupsafe import Markup, escape


def figure_value(fig) -> str:
    value = fig.value
    text = format_decimal(value) if value != int(value) else format_decimal(int(value))
    if fig.unit == "%":
        return _("%(value)s %%", value=text)
    if fig.unit == "M€":
        return _("%(value)s million euros", value=text)
    return text


def file_size(n: int) -> str:
    """A size in bytes for people: KB under one megabyte, MB above."""
    if n < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(n / 1024)))
    return _("%(n)s MB", n=format_decimal(round(n / (1024 * 1024), 1)))


def paragraphs(text) -> list:
    """What someone typed, as paragraphs of lines: their line breaks kept, no run of blank lines."""
    from .domain.questionnaire import clean_text
    cleaned = clean_text(text)
    return [para.split("\n") for para in cleaned.split("\n\n")] if cleaned else []


def text_html(value) -> Markup:
    """What the `text` macro of macros/summary.html writes: paragraphs, lines separated by <br>."""
    return Markup("".join(f"<p>{'<br>'.join(escape(line) for line in para)}</p>" for para in paragraphs(value)))


def summary_html(sections, change=False, level=2) -> Markup:
    """The `summary` macro of macros/summary.html (its very markup), in Python: the check page has
    dozens of rows, each a handful of template look-ups. `change`: a "Change" link on each row, to
    its step (built once for consecutive rows of one step)."""
    from flask import url_for
    from .web import _template_text
    out = []
    change_text = _template_text("Change") if change else ""
    link_to = href = None
    for s in sections:
        link_to = href = None
        rows = []
        for r in s.rows:
            value = text_html(r.value) if r.multiline else escape(r.value)
            label = escape(r.label)
            link = ""
            if change:
                if link_to != (r.step, r.n):
                    link_to, href = (r.step, r.n), escape(url_for("report.step", step=r.step, n=r.n, retour="verifier"))
                link = f'<dd><a href="{href}">{change_text}<span class="visually-hidden"> {label}</span></a></dd>'
            rows.append(f'\n  <div><dt>{label}</dt><dd dir="auto">{value}</dd>{link}</div>\n')
        out.append(f'\n<h{level}>{escape(s.title)}</h{level}>\n<dl class="summary-list">\n{"".join(rows)}\n</dl>\n')
    return Markup("".join(out))


def where_phrase(profile) -> str:
    """"in <département>" as a whole phrase in the reader's language, to enter sentences such as
    "Worried about a child %(where)s?": the profile's own form for that language when it gives one
    (French always: "en Haute-Garonne", "dans le Jura"), else the catalog's translation of
    "in %(departement)s" with the name as a proper noun. Never the French phrase in another
    language."""
    if profile is None:
        return ""
    locale = str(get_locale() or "fr")
    phrase = profile.in_names.get(locale)
    if phrase:
        return phrase
    # Translators: a whole phrase that enters sentences such as "Worried about a child %(where)s?";
    # %(departement)s is the département's proper name (Haute-Garonne, Jura, Isère): add the
    # preposition (and article) your language needs before a place name.
    return _("in %(departement)s", departement=profile.name)


def register(app):
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.globals["where_phrase"] = where_phrase
    app.jinja_env.globals["summary_html"] = summary_html
    app.jinja_env.filters["format_percent"] = lambda v: format_percent(v / 100, "#,##0.#%")
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["figure_value"] = figure_value
    app.jinja_env.filters["date"] = lambda d, fmt="long": format_date(d, fmt) if d else ""
    app.jinja_env.filters["time"] = lambda t, fmt="short": format_time(t, fmt) if t else ""
    app.jinja_env.filters["datetime"] = lambda d, fmt="medium": format_datetime(d, fmt) if d else ""
