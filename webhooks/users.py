"""/admin/users: who logs in (name, role, active, last login), added, given another role or a new password,
deactivated and reactivated, and their API tokens created, listed and revoked. The same store functions as
``cocreate user`` and ``cocreate token``; held for admins by ``webhooks.security``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from sync.ledger import accounts
from sync.ledger.accounts import MIN_PASSWORD, ROLES, AccountError, LastAdmin
from sync.ledger.store import User
from webhooks.context import runtime

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _problem(exc: AccountError) -> str:
    """The reason a change was refused, in the reader's language."""
    if isinstance(exc, LastAdmin):
        return gettext("This is the last active admin: make another user an admin first, or nobody could "
                       "manage users.")
    text = str(exc)
    if "exists already" in text:
        return gettext("There is already a user with this name.")
    if "characters" in text:
        return gettext("The password needs at least %(count)d characters.", count=MIN_PASSWORD)
    if "role" in text:
        return gettext("Choose a role: admin or CS.")
    return gettext("A user needs a name.")


@bp.route("", methods=["GET", "POST"])
def index():
    status = 200
    values = {"name": "", "role": "cs"}
    if request.method == "POST":
        values = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", "")}
        try:
            with runtime().Session.begin() as session:
                accounts.add_user(session, values["name"], request.form.get("password", ""), values["role"])
        except AccountError as exc:
            flash(_problem(exc), "error")
            status = 400
        else:
            flash(gettext("User %(name)s added.", name=values["name"]), "success")
            return redirect(url_for("users.index"))
    with runtime().Session() as session:
        users = [_row(user) for user in accounts.list_users(session)]
    return render_template("users/index.html", users=users, roles=ROLES, values=values), status


def _row(user: User) -> dict:
    return {"id": user.id, "name": user.name, "role": user.role, "active": user.active,
            "last_login_at": user.last_login_at}


@bp.route("/<int:user_id>")
def detail(user_id: int):
    with runtime().Session() as session:
        user = session.get(User, user_id)
        if user is None:
            abort(404)
        row = _row(user)
        tokens = [{"id": token.id, "created_at": token.created_at, "last_used_at": token.last_used_at,
                   "revoked_at": token.revoked_at} for token in accounts.list_tokens(session, user_id)]
    return render_template("users/detail.html", user=row, tokens=tokens, roles=ROLES, new_token=None)


def _change(user_id: int, change, done: str):
    """Run ``change(session)`` on the user's row; a refusal is shown and nothing is written."""
    try:
        with runtime().Session.begin() as session:
            if session.get(User, user_id) is None:
                abort(404)
            change(session)
    except AccountError as exc:
        flash(_problem(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("users.detail", user_id=user_id))


@bp.route("/<int:user_id>/role", methods=["POST"])
def role(user_id: int):
    wanted = request.form.get("role", "")
    return _change(user_id, lambda session: accounts.set_role(session, user_id, wanted),
                   gettext("Role changed."))


@bp.route("/<int:user_id>/password", methods=["POST"])
def password(user_id: int):
    new = request.form.get("password", "")
    return _change(user_id, lambda session: accounts.set_password(session, user_id, new),
                   gettext("Password reset: the user's sessions have ended."))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int):
    return _change(user_id, lambda session: accounts.deactivate(session, user_id),
                   gettext("Deactivated: their sessions have ended and their API tokens are refused."))


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int):
    return _change(user_id, lambda session: accounts.enable(session, user_id), gettext("Reactivated."))


@bp.route("/<int:user_id>/tokens", methods=["POST"])
def create_token(user_id: int):
    with runtime().Session.begin() as session:
        user = session.get(User, user_id)
        if user is None:
            abort(404)
        token = accounts.create_token(session, user.name)
    with runtime().Session() as session:
        user = session.get(User, user_id)
        row = _row(user)
        tokens = [{"id": item.id, "created_at": item.created_at, "last_used_at": item.last_used_at,
                   "revoked_at": item.revoked_at} for item in accounts.list_tokens(session, user_id)]
    # Shown on this answer only: the store keeps its hash, so a reload shows it no more.
    response = render_template("users/detail.html", user=row, tokens=tokens, roles=ROLES, new_token=token)
    return response, 201, {"Cache-Control": "no-store"}


@bp.route("/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(user_id: int, token_id: int):
    with runtime().Session.begin() as session:
        tokens = {token.id for token in accounts.list_tokens(session, user_id)}
        if token_id not in tokens:
            abort(404)
        accounts.revoke_token(session, token_id)
    flash(gettext("API token %(id)d revoked.", id=token_id), "success")
    return redirect(url_for("users.detail", user_id=user_id))
