"""Duplicates on the CS pages: similar open needs as CS types a need (``GET /needs/similar``, read by
``static/similar.js`` on the intake form), and merging a need into another with a confirm step, and its undo."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from plugin.need import DESCRIPTION_MAX, TITLE_MAX
from sync.duplicates import THRESHOLD
from sync.ledger.store import Need, NeedMerge
from sync.merges import MergeRefused, check_merge, merge_needs, merges_of, undo_merge
from sync.similar import similar_needs
from webhooks.context import customers, runtime
from webhooks.i18n import page_locale

bp = Blueprint("duplicates", __name__)


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: the merge and undo buttons."""


def _status_name(key: str) -> str:
    item = runtime().settings.status(key)
    return item.name.get(page_locale()) if item else key


def _suggested(title: str, description: str, category: str | None = None, exclude: str | None = None):
    rt = runtime()
    with rt.Session() as session:
        return similar_needs(session, rt.settings, rt.engine.dialect.name, title[:TITLE_MAX],
                             description[:DESCRIPTION_MAX], category=category or None, exclude=exclude)


@bp.route("/needs/similar")
@login_required
def similar():
    """The open needs most like the one being typed, one per tracker issue, best first, as JSON."""
    book = customers()
    found = _suggested(request.args.get("title", ""), request.args.get("description", ""),
                       request.args.get("category", "").strip(), request.args.get("exclude", "").strip() or None)
    return jsonify(threshold=THRESHOLD, suggestions=[{
        "ref": item.ref, "title": item.title, "status": item.status, "status_name": _status_name(item.status),
        "score": item.score, "issue_key": item.issue_key, "issue_url": item.issue_url,
        "refs": item.refs, "customers": [book.name(key) for key in item.customers],
        "url": url_for("needs.detail", ref=item.ref),
    } for item in found])


def _refusal(exc: MergeRefused) -> str:
    return gettext(exc.message, **exc.params) if exc.params else gettext(exc.message)


@bp.route("/needs/<ref>/merge", methods=["GET", "POST"])
@login_required
def merge(ref: str):
    """Merge need ``ref`` into another: pick the need (suggested ones listed), see both, confirm (POST)."""
    rt = runtime()
    into = request.values.get("into", "").strip().upper()
    form = ConfirmForm()
    error = None
    with rt.Session() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
        if need is None:
            abort(404)
        target = None
        if into:
            try:
                need, target = check_merge(session, ref, into)
            except LookupError:
                error = gettext("No need has the ref %(ref)s.", ref=into)
            except MergeRefused as exc:
                error = _refusal(exc)
    if request.method == "POST" and target is not None and not error:
        if not form.validate_on_submit():
            abort(400)
        try:
            merge_needs(rt, ref, into, current_user.name)
        except MergeRefused as exc:  # a merge made meanwhile by someone else
            error = _refusal(exc)
        else:
            flash(gettext("%(ref)s merged into %(into)s.", ref=ref, into=into), "success")
            return redirect(url_for("needs.detail", ref=ref))
    suggestions = [] if target else _suggested(need.title, need.description, need.category, exclude=ref)
    return render_template("needs/merge.html", need=need, target=target, into=into, error=error, form=form,
                           suggestions=suggestions), 400 if error else 200


@bp.route("/needs/merges/<int:merge_id>/undo", methods=["POST"])
@login_required
def undo(merge_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    rt = runtime()
    with rt.Session() as session:
        found = session.get(NeedMerge, merge_id)
        if found is None:
            abort(404)
        ref = session.get(Need, found.from_need_id).ref
    try:
        undo_merge(rt, merge_id, current_user.name)
    except MergeRefused as exc:
        flash(_refusal(exc), "error")
    else:
        flash(gettext("The merge of %(ref)s was undone.", ref=ref), "success")
    return redirect(url_for("needs.detail", ref=ref))


@bp.app_template_global()
def need_merges(need: Need) -> list[dict]:
    """For the need page: every merge the need took part in, with the other need's ref and an undo form."""
    with runtime().Session() as session:
        rows = merges_of(session, need.id)
        refs = dict(session.execute(select(Need.id, Need.ref).where(
            Need.id.in_({row.from_need_id for row in rows} | {row.into_need_id for row in rows}))).all())
    return [{"merge": row, "from_ref": refs[row.from_need_id], "into_ref": refs[row.into_need_id],
             "merged": row.from_need_id == need.id and row.undone_at is None}
            for row in rows]
