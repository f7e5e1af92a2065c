"""Form controls in Python: the very markup of the macros in templates/macros/forms.html (input,
textarea, select, choices, checkbox) and of the `question` macro of templates/macros/questions.html
for its simple kinds. A step page asks a dozen questions; as Jinja macros they cost about a third
of the request. The macros stay for the other pages (and the question kinds with a hook)."""
from __future__ import annotations

from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from wtforms import widgets

from .base import _html_params
from ..web import _template_text, _translations, field_attrs, field_described


def _opt(field, optional):
    return (not field.flags.required) if optional is None else optional


def _open(field) -> str:
    return '\n<div class="field field-error">' if field.errors else '\n<div class="field">'


def _control(field, attrs: dict) -> Markup:
    """What `field(**attrs)` writes for a text input, a number input (no widget bounds) or a textarea,
    without WTForms' per-call look-ups (dir() of the flags, render_kw merging…); other fields go
    through WTForms."""
    widget = field.widget
    kind = type(widget)
    if field.render_kw or not (kind is widgets.TextInput or kind is widgets.TextArea or (
            kind is widgets.NumberInput and widget.step is None and widget.min is None and widget.max is None)):
        return field(**attrs)
    attrs.setdefault("id", field.id)
    if kind is widgets.TextArea:
        for k, v in vars(field.flags).items():          # the widget's own taking of the flags
            if k in widget.validation_attrs and k not in attrs:
                attrs[k] = v
        return Markup(f"<textarea {_html_params(name=field.name, **attrs)}>\r\n{escape(field._value())}</textarea>")
    attrs.setdefault("type", widget.input_type)
    if "value" not in attrs:
        attrs["value"] = field._value()
    for k, v in vars(field.flags).items():
        if k in widget.validation_attrs and k not in attrs:
            attrs[k] = v() if callable(v) else v
    return Markup(f"<input {_html_params(name=field.name, **attrs)}>")


def _label_text(field, optional) -> str:
    """web.field_label_text, as a string (no Markup operations)."""
    text = escape(field.label.text)
    if optional:
        return f'{text} <span class="optional">({_template_text("optional")})</span>'
    return text


def _hint_and_error(field) -> str:
    """web.field_hint_and_error, as a string (no Markup operations)."""
    hint = f'<p class="hint" id="{escape(field.id)}-hint">{escape(field.description)}</p>' if field.description else ""
    if not field.errors:
        return hint + "\n"
    return (f'{hint}\n<p class="error-message" id="{escape(field.id)}-error"><span class="visually-hidden">'
            f'{_template_text("Error:")}</span> {escape(field.errors[0])}</p>')


def _labelled(field, optional, control) -> Markup:
    """input, textarea, select: label, hint and error, the control."""
    return Markup(f'{_open(field)}\n  <label for="{escape(field.id)}">{_label_text(field, _opt(field, optional))}'
                  f'</label>\n  {_hint_and_error(field)}\n  {control}\n</div>')


def input_html(field, type="text", autocomplete="off", optional=None, cls="", inputmode=None, dir=None) -> Markup:
    control = _control(field, field_attrs(field, {"type": type, "autocomplete": autocomplete, "class": cls,
                                                  "inputmode": inputmode, "dir": dir}))
    return _labelled(field, optional, control)


def textarea_html(field, optional=None, rows=6, autofocus=False) -> Markup:
    return _labelled(field, optional, _control(field, field_attrs(field, {"rows": rows, "autofocus": autofocus or None})))


def _plain_select(field, attrs: dict) -> Markup:
    """WTForms' Select widget's markup for a single choice among (value, label) pairs with text values
    (every select a step asks), without building a Choice, a dict and a Markup for each option; any
    other select goes through WTForms."""
    choices = field.choices
    if (type(field.widget) is not widgets.Select or field.widget.multiple or field.render_kw
            or not isinstance(choices, list)
            or not all(type(c) is tuple and len(c) == 2 and type(c[0]) is str for c in choices)):
        return field(**attrs)
    attrs = dict(attrs)
    attrs.setdefault("id", field.id)
    for k, v in vars(field.flags).items():      # what the widget takes from the field's flags
        if k in widgets.Select.validation_attrs and k not in attrs:
            attrs[k] = v
    coerce, data = field.coerce, field.data
    options = [f'<option {"selected " if coerce(value) == data else ""}value="{escape(value)}">'
               f'{escape(label or value)}</option>' for value, label in choices]
    return Markup(f'<select {_html_params(name=field.name, **attrs)}>{"".join(options)}</select>')


def select_html(field, optional=None, autocomplete="off") -> Markup:
    return _labelled(field, optional, _plain_select(field, field_attrs(field, {"autocomplete": autocomplete})))


def choices_html(field, multiple=False, optional=None, legend_class="") -> Markup:
    label = _label_text(field, _opt(field, optional))
    if legend_class == "page-legend":
        label = f"<h1>{label}</h1>"
    described = f' aria-describedby="{field_described(field)}"' if field.description or field.errors else ""
    kind = "checkbox" if multiple else "radio"
    name = escape(field.name)
    field_id = field.id
    options = []
    for i, choice in enumerate(field.iter_choices()):
        option_id = escape(f"{field_id}-{i}")
        checked = " checked" if choice.selected else ""
        options.append(f'\n  <div class="choice">\n    <input type="{kind}" id="{option_id}" name="{name}" '
                       f'value="{escape(choice.value)}"{checked}>\n    <label for="{option_id}">'
                       f'{escape(choice.label or choice.value)}</label>\n  </div>\n  ')
    return Markup(f'{_open(field)}\n<fieldset{described}>\n  <legend class="{escape(legend_class)}">{label}</legend>\n  '
                  f'{_hint_and_error(field)}\n  {"".join(options)}\n</fieldset>\n</div>')


def checkbox_html(field) -> Markup:
    field_id = escape(field.id)
    checked = " checked" if field.data else ""
    d = field_described(field)
    described = f' aria-describedby="{d}"' if d else ""
    return Markup(f'{_open(field)[1:]}\n  {_hint_and_error(field)}\n  <div class="choice">\n    <input type="checkbox" '
                  f'id="{field_id}" name="{escape(field.name)}" value="y"{checked}{described}>\n    '
                  f'<label for="{field_id}">{escape(field.label.text)}</label>\n  </div>\n</div>')


def _place_html(field, opt, form, ctx) -> str:
    """A postcode, its commune (a choice when several, a notice otherwise), "postcode unknown"."""
    communes = ctx["communes"]
    if len(communes) > 1 or form.commune.errors:
        found = f"{select_html(form.commune, optional=False)}\n  "
    elif len(communes) == 1:
        text = Markup(_translations().ugettext("Commune: %(name)s")) % {"name": communes[0].name}
        found = f'<p class="notice" role="status">{text}</p>\n  '
    elif ctx["lookup"] and field.data:
        text = _template_text("No commune found for this postcode. Check it, or tick the box below.")
        found = f'<p class="notice" role="status">{text}</p>'
    else:
        found = ""
    postcode = input_html(field, cls="short", inputmode="numeric", optional=opt, dir="ltr")
    return f"\n  {postcode}\n  {found}\n  {checkbox_html(form.postcode_unknown)}"


def question_html(item, as_title=False, form=None, ctx=None) -> Markup | None:
    """A declared question, as the `question` macro writes it; None for the dated facts (the macro
    renders those), and for a postcode when `form` and `ctx` (the page's) are not given."""
    kind, field, opt, a = item.q.kind, item.field, item.optional, item.attrs
    if isinstance(field.description, LazyString):
        # Looked up once, not at each of its three or four uses. A lazy string's __html__ is its text
        # unescaped: Markup of that text is printed the same way.
        field.description = Markup(str(field.description))
    if kind == "radio":
        out = choices_html(field, optional=opt, legend_class="page-legend" if as_title else "")
    elif kind == "multi":
        out = choices_html(field, multiple=True, optional=opt)
    elif kind == "choice":
        out = select_html(field, optional=opt)
    elif kind == "long":
        out = textarea_html(field, optional=opt, rows=a.get("rows") or 6)
    elif kind == "bool":
        out = checkbox_html(field)
    elif kind == "date":
        out = input_html(field, type="date", optional=opt)
    elif kind == "int":
        out = input_html(field, type="number", cls="short", inputmode="numeric", optional=opt)
    elif kind == "tel":
        out = input_html(field, type="tel", autocomplete=a.get("autocomplete") or "tel", dir="ltr", optional=opt)
    elif kind == "email":
        out = input_html(field, type="email", autocomplete=a.get("autocomplete") or "email", dir="ltr", optional=opt)
    elif kind == "place" and form is not None:
        out = _place_html(field, opt, form, ctx)
    elif kind in ("place", "facts"):
        return None
    else:
        out = input_html(field, autocomplete=a.get("autocomplete") or "off", optional=opt)
    return Markup(f"\n{out}\n")


def _shown_when(conditions, key, inner) -> str:
    """The `shown_when` macro of macros/conditional.html around `inner`."""
    shown, watch = conditions.get(key, (True, None))
    watched = f' data-shown-when="{escape(watch)}"' if watch else ""
    hidden, disabled = ("", "") if shown else (" hidden", " disabled")
    return (f'\n<div class="conditional"{watched}{hidden}>\n  <input type="hidden" name="revealed" '
            f'value="{escape(watch or key)}"{disabled}>\n  {inner}\n</div>')


def shown_when_html(conditions, key, inner) -> Markup:
    """The `shown_when` macro of macros/conditional.html around `inner` (markup)."""
    return Markup(_shown_when(conditions, key, inner))


def wrapped_html(item, ctx, as_title=False, form=None) -> Markup | None:
    """The `wrapped` macro of macros/questions.html: a question, in its conditional wrapper when an
    answer reveals it (with the notice that it was just added). None for the kinds the macros render."""
    if not item.wrap:
        return question_html(item, as_title, form, ctx)
    inner = question_html(item, False, form, ctx)
    if inner is None:
        return None
    notice = ""
    if ctx["revealed_at"] == item.wrap and ctx["revealed_now"]:
        added = _template_text("A question was added below because of your answer: answer it, then continue.")
        notice = f'<p class="notice" role="status">{added}</p>'
    return Markup(f"\n  {notice}\n  {_shown_when(ctx['conditions'], item.wrap, inner)}\n")


# What the `error_summary` macro of macros/forms.html writes for one form without any error: the
# whitespace of its loops, nothing visible.
_NO_ERROR_SUMMARY = Markup("\n\n  \n  \n  \n  \n  \n  \n\n\n\n")


def error_summary_html(forms) -> Markup | None:
    """The error summary of a page with one form and no error (most renderings of a step), without
    the macro's walk over every field; None otherwise: the macro writes it."""
    present = [form for form in forms if form]
    if len(present) != 1:
        return None
    form = present[0]
    if form.form_errors or any(field.errors for field in form):
        return None
    return _NO_ERROR_SUMMARY


def _fieldset_html(block, form, ctx, title_legend) -> str | None:
    """The `fieldset` macro of macros/questions.html; None when one of its questions needs the macros."""
    items = [wrapped_html(item, ctx, False, form) for item in block.items]
    if any(out is None for out in items):
        return None
    anchor = f' id="{escape(block.anchor)}"' if block.anchor else ""
    if title_legend:
        intro = f'<p class="hint">{escape(ctx["intro"])}</p>' if ctx["intro"] else ""
        legend = f'<legend class="page-legend"><h1>{escape(ctx["title"])}</h1></legend>\n  {intro}\n  '
    else:
        legend = f"<legend>{escape(block.legend)}</legend>"
    hint = f'<p class="hint">{escape(block.hint)}</p>' if block.hint else ""
    return f'<fieldset{anchor}>\n  {legend}\n  {hint}\n  {"".join(items)}\n</fieldset>'


def block_html(block, form, ctx, first) -> Markup | None:
    """The `block` macro of macros/questions.html (a block of questions, in its fieldset and its
    conditional wrapper when it has them); None when one of its questions needs the macros."""
    if block.wrap:
        inner = _fieldset_html(block, form, ctx, False)
        if inner is None:
            return None
        notice = ""
        if ctx["revealed_at"] == block.wrap and ctx["revealed_now"]:
            added = _template_text("A question was added below because of your answer: answer it, then continue.")
            notice = f'<p class="notice" role="status">{added}</p>'
        return Markup(f"\n  {notice}\n  {_shown_when(ctx['conditions'], block.wrap, inner)}\n")
    if block.box:
        inner = _fieldset_html(block, form, ctx, first and ctx["heading"] == "legend")
        return None if inner is None else Markup(f"{inner}\n")
    items = [wrapped_html(item, ctx, first and i == 0 and ctx["heading"] == "question", form)
             for i, item in enumerate(block.items)]
    if any(out is None for out in items):
        return None
    return Markup(f'\n  {"".join(items)}\n')
