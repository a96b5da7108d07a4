"""/admin/people: the people directory (name, e-mail, Jira accountId, GitHub login), listed, added, edited and
removed; a tracker account looked up by e-mail when a tracker is connected. Held for admins by
``webhooks.security``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from plugin.errors import TrackerError
from plugin.people import PERSON_FIELDS
from sync.ledger.people import InvalidPerson, UnknownPerson, add_person, edit_person, remove_person
from webhooks.context import runtime

bp = Blueprint("people", __name__, url_prefix="/admin/people")


def _tracker_field() -> str | None:
    """The field a tracker lookup fills (``jira_account_id``, ``github_login``); None with no tracker."""
    tracker = runtime().settings.tracker
    return tracker.section.person_field if tracker is not None else None


def _form_values() -> dict[str, str]:
    return {field: request.form.get(field, "") for field in PERSON_FIELDS}


def _look_up(values: dict[str, str]) -> tuple[dict[str, str], dict[str, list[str]], int]:
    """Fill the tracker's account field from the e-mail; writes nothing (the form is shown again to save)."""
    field = _tracker_field()
    email = values.get("email", "").strip()
    if field is None:
        return values, {"email": [gettext("No tracker is connected to look the account up in.")]}, 400
    if not email:
        return values, {"email": [gettext("Give the e-mail address to look up.")]}, 400
    try:
        account = runtime().adapter().find_account(email)
    except TrackerError as exc:
        return values, {field: [gettext("The tracker could not be asked (%(problem)s); nothing was changed. "
                                        "Try again later, or type the account in.", problem=str(exc))]}, 502
    if account is None:
        return values, {field: [gettext("The tracker knows no one with the e-mail address %(email)s.",
                                        email=email)]}, 200
    flash(gettext("Found %(account)s for %(email)s: save to keep it.", account=account, email=email), "success")
    return values | {field: account}, {}, 200


@bp.route("", methods=["GET", "POST"])
def index():
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = _form_values()
        if "lookup" in request.form:
            values, errors, status = _look_up(values)
        else:
            try:
                person = add_person(runtime(), values)
            except InvalidPerson as exc:
                errors, status = exc.by_field(gettext), 400
            else:
                flash(gettext("%(name)s added to the people directory.", name=person.name), "success")
                return redirect(url_for("people.index"))
    return render_template("people/index.html", people=runtime().people().records, values=values, errors=errors,
                           tracker_field=_tracker_field()), status


@bp.route("/<int:person_id>", methods=["GET", "POST"])
def edit(person_id: int):
    person = runtime().people().get(person_id)
    if person is None:
        abort(404)
    values = {field: getattr(person, field) or "" for field in PERSON_FIELDS}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = _form_values()
        if "lookup" in request.form:
            values, errors, status = _look_up(values)
        else:
            try:
                edited = edit_person(runtime(), person_id, values)
            except InvalidPerson as exc:
                errors, status = exc.by_field(gettext), 400
            except UnknownPerson:
                abort(404)
            else:
                flash(gettext("%(name)s saved.", name=edited.name), "success")
                return redirect(url_for("people.index"))
    return render_template("people/edit.html", person=person, values=values, errors=errors,
                           tracker_field=_tracker_field()), status


@bp.route("/<int:person_id>/remove", methods=["POST"])
def remove(person_id: int):
    try:
        removed = remove_person(runtime(), person_id)
    except UnknownPerson:
        abort(404)
    except InvalidPerson as exc:
        flash("; ".join(message for messages in exc.by_field(gettext).values() for message in messages), "error")
        return redirect(url_for("people.edit", person_id=person_id))
    flash(gettext("%(name)s removed from the people directory.", name=removed.name), "success")
    return redirect(url_for("people.index"))
