"""The CS intake form: rendering and CSRF only; the checks live in ``plugin.need.validate_need``."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.widgets import DateTimeLocalInput

from plugin.need import DESCRIPTION_MAX, NAME_MAX, NEED_FIELDS, NOTE_MAX, STAGES, TITLE_MAX
from plugin.need import STAGE_NAMES as STAGE_MESSAGES
from plugin.settings import Settings
from sync.loop.thread import BODY_MAX

STAGE_NAMES = {stage: lazy_gettext(message) for stage, message in STAGE_MESSAGES.items()}
"""Display names of :data:`plugin.need.STAGES` in the request's language."""

FIELD_NAMES = {
    "category": lazy_gettext("Product category"),
    "title": lazy_gettext("Title"),
    "description": lazy_gettext("Detailed description"),
    "urgency": lazy_gettext("Urgency"),
    "reporter_name": lazy_gettext("Reporter"),
    "reporter_email": lazy_gettext("Reporter e-mail"),
    "reporter_channel": lazy_gettext("Reporter channel"),
    "reported_at": lazy_gettext("Time reported"),
    "owner": lazy_gettext("Owner"),
    "stage": lazy_gettext("Stage"),
    "customer": lazy_gettext("Customer"),
    "remarks": lazy_gettext("Remarks"),
    "linked_to": lazy_gettext("Linked to"),
    "screenshots": lazy_gettext("Screenshots"),
    "project_id": lazy_gettext("Project"),
}
"""Each need field's name as the form labels it, for the form and for the field history."""

# The form fields handed to ``validate_need``: :data:`plugin.need.NEED_FIELDS`.


class NeedForm(FlaskForm):
    """Every column of the seed table. Fields carry no validators: ``validate_need`` is the one check."""

    category = SelectField(FIELD_NAMES["category"], validate_choice=False)
    title = StringField(FIELD_NAMES["title"], render_kw={"maxlength": TITLE_MAX})
    description = TextAreaField(FIELD_NAMES["description"],
                                render_kw={"maxlength": DESCRIPTION_MAX, "rows": 6})
    urgency = SelectField(FIELD_NAMES["urgency"], validate_choice=False)
    reporter_name = StringField(FIELD_NAMES["reporter_name"], render_kw={"maxlength": NAME_MAX})
    reporter_email = EmailField(FIELD_NAMES["reporter_email"], render_kw={"maxlength": 320})
    reporter_channel = StringField(FIELD_NAMES["reporter_channel"], render_kw={"maxlength": 64})
    reported_at = StringField(FIELD_NAMES["reported_at"], widget=DateTimeLocalInput())
    owner = StringField(FIELD_NAMES["owner"], render_kw={"maxlength": NAME_MAX, "list": "people"})
    stage = SelectField(FIELD_NAMES["stage"], validate_choice=False)
    customer = StringField(FIELD_NAMES["customer"], render_kw={"maxlength": NAME_MAX, "list": "customers"})
    remarks = TextAreaField(FIELD_NAMES["remarks"], render_kw={"maxlength": DESCRIPTION_MAX, "rows": 3})
    linked_to = StringField(FIELD_NAMES["linked_to"], render_kw={"maxlength": 300})
    screenshots = MultipleFileField(FIELD_NAMES["screenshots"], render_kw={"accept": "image/*"})

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


class EditNeedForm(NeedForm):
    """The intake form plus the version it was opened at, so that a save from a stale copy is a conflict."""

    version = HiddenField()


class StatusForm(FlaskForm):
    """CS sets a need's customer-facing status by hand, with a note for the status history."""

    status = SelectField(lazy_gettext("New status"), validate_choice=False)
    note = TextAreaField(lazy_gettext("Note"), render_kw={"maxlength": NOTE_MAX, "rows": 2})

    def set_choices(self, settings: Settings, locale: str) -> None:
        self.status.choices = [(item.key, item.name.get(locale)) for item in settings.statuses]


class MessageForm(FlaskForm):
    """A message in a need's thread; the button pressed says whether it is an internal note or a reply."""

    body = TextAreaField(lazy_gettext("Message"), render_kw={"maxlength": BODY_MAX, "rows": 4})
