"""CS changes a filed need: the edit form (every field, screenshots added and removed, conflicts shown with both
values), the customer-facing status set by hand and "sync now"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import selectinload

from plugin.need import NEED_FIELDS, NOTE_MAX, storable
from sync.intake import KEEP_PROJECT, InvalidUpload, NeedConflict, Upload, update_need
from sync.ledger.edits import SCREENSHOTS, as_text
from sync.ledger.store import Need
from sync.loop.outbound import sync_now
from sync.loop.status import StatusSetByTracker, set_status_by_hand
from webhooks.context import runtime
from webhooks.forms import EditNeedForm, StatusForm
from webhooks.i18n import page_locale
from webhooks.needs import (
    Names,
    checked_submission,
    customer_to_add,
    input_time,
    parse_reported_at,
    size_text,
    too_many_screenshots,
)
from webhooks.projects import chosen_project

bp = Blueprint("edits", __name__)


@dataclass(frozen=True)
class Clash:
    """One field someone else saved after the editor opened the form: who, when, their value and the editor's."""

    field: str
    actor: str | None
    at: dt.datetime
    theirs: str | None
    yours: str | None
    kept: bool = False  # the editor left the field as they found it: the form shows their value instead


def _load(ref: str) -> Need:
    with runtime().Session() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)
                               .options(selectinload(Need.attachments))).one_or_none()
    if need is None:
        abort(404)
    return need


def _form_values(need: Need) -> dict:
    values = {name: getattr(need, name) or "" for name in NEED_FIELDS}
    values["reported_at"] = input_time(need.reported_at)
    values["version"] = need.version
    return values


@bp.route("/needs/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref: str):
    rt = runtime()
    settings = rt.settings
    need = _load(ref)
    form = EditNeedForm() if request.method == "POST" else EditNeedForm(data=_form_values(need))
    form.set_choices(settings, page_locale())
    errors: dict[str, list[str]] = {}
    clashes: list[Clash] = []
    uploads: list[Upload] = []
    removing = {int(value) for value in request.form.getlist("remove") if value.isdigit()}
    if request.method == "POST":
        data = form.need_data()
        # The input shows minutes: an untouched time keeps its seconds rather than counting as a change.
        typed = data["reported_at"]
        data["reported_at"] = need.reported_at if typed == input_time(need.reported_at) else (
            parse_reported_at(typed))
        need_input, uploads = checked_submission(data, settings, errors)
        project_id = chosen_project(need_input.customer if need_input else None, errors, KEEP_PROJECT)
        version = int(form.version.data) if (form.version.data or "").isdigit() else 0
        if not errors:
            try:
                result = update_need(rt, ref, need_input, current_user.name, version=version, uploads=uploads,
                                     remove=removing, project_id=project_id)
            except InvalidUpload:  # only the count is left to refuse: each file was checked above
                errors.setdefault("screenshots", []).append(too_many_screenshots(settings))
            except NeedConflict as conflict:
                need = _load(ref)
                clashes = _clashes(conflict, need, need_input)
                form.version.data = conflict.current  # saving again now applies what this editor typed
                current = _form_values(need)
                for clash in clashes:
                    name = clash.actor or gettext("Someone")
                    if clash.kept:
                        # Left as it was, the editor's stale value would undo the other change on saving again.
                        form[clash.field].data = current[clash.field]
                        errors.setdefault(clash.field, []).append(gettext(
                            "%(name)s changed this after you opened the form; you had not, so it now shows their "
                            "value.", name=name))
                    else:
                        errors.setdefault(clash.field, []).append(gettext(
                            "%(name)s changed this after you opened the form.", name=name))
            else:
                if result.changed:
                    flash(gettext("Need %(ref)s saved", ref=ref), "success")
                else:
                    flash(gettext("Nothing was changed."), "info")
                return redirect(url_for("needs.detail", ref=ref))
    return render_template(
        "needs/edit.html", form=form, need=need, errors=errors, clashes=clashes, removing=removing,
        settings=settings, had_uploads=bool(uploads), max_upload=size_text(settings.upload_max_bytes),
        new_customer=customer_to_add(form.data, errors) if request.method == "POST" else None,
    ), (409 if clashes else 400) if errors else 200


def _clashes(conflict: NeedConflict, need: Need, need_input) -> list[Clash]:
    """Per field saved since the editor's version: the last change's author and time, the value now stored (or
    the screenshots added and removed), what the editor typed, and whether that is the value they found."""
    last = {edit.field: edit for edit in conflict.edits}
    found = {}
    for edit in conflict.edits:
        found.setdefault(edit.field, edit.old)
    clashes = []
    for field, edit in last.items():
        if field == SCREENSHOTS:
            files = [gettext("added %(name)s", name=e.new) if e.new else gettext("removed %(name)s", name=e.old)
                     for e in conflict.edits if e.field == SCREENSHOTS]
            clashes.append(Clash(field, edit.actor, edit.at, ", ".join(files), None))
        else:
            typed = as_text(getattr(need_input, field))
            clashes.append(Clash(field, edit.actor, edit.at, as_text(getattr(need, field)), typed,
                                 kept=typed == found[field]))
    return clashes


@bp.post("/needs/<ref>/sync")
@login_required
def sync(ref: str):
    """Queue the need's sync now (the "sync now" button), or say why not."""
    try:
        outcome = sync_now(runtime(), ref)
    except LookupError:
        abort(404)
    if outcome == "queued":
        flash(gettext("Sync of %(ref)s queued: the issue is brought in line with the need in the background.",
                      ref=ref), "success")
    elif outcome == "already_queued":
        flash(gettext("A sync of %(ref)s is already queued; it was not queued twice.", ref=ref), "info")
    else:
        flash(gettext("No tracker is configured: %(ref)s waits for one and gets its issue once it is.", ref=ref),
              "error")
    return redirect(url_for("needs.detail", ref=ref, _anchor="tracker"))


@bp.post("/needs/<ref>/status")
@login_required
def status(ref: str):
    """Set the customer-facing status of a need without a tracker issue; the outbox tells the customer."""
    rt = runtime()
    form = StatusForm()
    form.set_choices(rt.settings, page_locale())
    note = (form.note.data or "").strip()
    key = form.status.data or ""
    names = Names(rt.settings, page_locale())
    back = redirect(url_for("needs.detail", ref=ref, _anchor="customer-status"))
    if len(note) > NOTE_MAX or not storable(note):
        flash(gettext("The note is longer than %(limit)d characters or holds characters that cannot be stored.",
                      limit=NOTE_MAX), "error")
        return back
    try:
        changed = set_status_by_hand(rt, ref, key, note, current_user.name)
    except NoResultFound:
        abort(404)
    except StatusSetByTracker as exc:
        flash(gettext("The tracker sets this need's status: change it in %(issue)s.", issue=exc.issue_key), "error")
        return back
    except ValueError:
        flash(gettext("Unknown status %(value)s.", value=key), "error")
        return back
    if changed:
        flash(gettext("Status set to %(status)s. The customer and the owner are told where a channel is set up.",
                      status=names.status(key)), "success")
    else:
        flash(gettext("The status already was %(status)s; nobody was told again.", status=names.status(key)),
              "info")
    return back
