"""The CS intake form: rendering and CSRF only; the checks live in ``plugin.need.validate_need``."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.widgets import DateTimeLocalInput

from plugin.need import DESCRIPTION_MAX, NAME_MAX, NEED_FIELDS, STAGES, TITLE_MAX
from plugin.need import STAGE_NAMES as STAGE_MESSAGES
from plugin.settings import Settings

STAGE_NAMES = {stage: lazy_gettext(message) for stage, message in STAGE_MESSAGES.items()}
"""Display names of :data:`plugin.need.STAGES` in the request's language."""

# The form fields handed to ``validate_need``: :data:`plugin.need.NEED_FIELDS`.


class NeedForm(FlaskForm):
    """Every column of the seed table. Fields carry no validators: ``validate_need`` is the one check."""

    category = SelectField(lazy_gettext("Product category"), validate_choice=False)
    title = StringField(lazy_gettext("Title"), render_kw={"maxlength": TITLE_MAX})
    description = TextAreaField(lazy_gettext("Detailed description"),
                                render_kw={"maxlength": DESCRIPTION_MAX, "rows": 6})
    urgency = SelectField(lazy_gettext("Urgency"), validate_choice=False)
    reporter_name = StringField(lazy_gettext("Reporter"), render_kw={"maxlength": NAME_MAX})
    reporter_email = EmailField(lazy_gettext("Reporter e-mail"), render_kw={"maxlength": 320})
    reporter_channel = StringField(lazy_gettext("Reporter channel"), render_kw={"maxlength": 64})
    reported_at = StringField(lazy_gettext("Time reported"), widget=DateTimeLocalInput())
    owner = StringField(lazy_gettext("Owner"), render_kw={"maxlength": NAME_MAX, "list": "people"})
    stage = SelectField(lazy_gettext("Stage"), validate_choice=False)
    customer = StringField(lazy_gettext("Customer"), render_kw={"maxlength": NAME_MAX, "list": "customers"})
    remarks = TextAreaField(lazy_gettext("Remarks"), render_kw={"maxlength": DESCRIPTION_MAX, "rows": 3})
    linked_to = StringField(lazy_gettext("Linked to"), render_kw={"maxlength": 300})
    screenshots = MultipleFileField(lazy_gettext("Screenshots"), render_kw={"accept": "image/*"})

    def set_choices(self, settings: Settings, locale: str) -> None:
        """Fill the selects from the config, named in ``locale``."""
        self.category.choices = [("", lazy_gettext("Choose a category"))] + [
            (item.key, item.name.get(locale)) for item in settings.categories]
        self.urgency.choices = [("", lazy_gettext("Choose an urgency"))] + [
            (item.key, item.name.get(locale)) for item in settings.urgencies]
        self.stage.choices = [("", lazy_gettext("Not specified"))] + [
            (key, STAGE_NAMES[key]) for key in STAGES]

    def need_data(self) -> dict:
        """The submitted text of every need field, as ``validate_need`` takes it."""
        return {name: self[name].data or "" for name in NEED_FIELDS}
