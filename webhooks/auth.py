"""Login for CS users (sessions, CSRF-protected form) and Bearer tokens for the JSON API."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from sync.ledger import accounts, throttle
from sync.ledger.store import User, utcnow
from webhooks.context import runtime
from webhooks.safety import safe_target

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class SessionUser(UserMixin):
    """The logged-in user as Flask-Login sees it: a detached copy of the row."""

    def __init__(self, user: User):
        self.id = str(user.id)
        self.name = user.name
        self.role = user.role
        self.epoch = user.session_epoch or 0

    def get_id(self) -> str:
        # The epoch goes into the session cookie: raising it in the database ends every copy of the cookie.
        return f"{self.id}:{self.epoch}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def init_app(app) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None


@login_manager.user_loader
def _load_user(session_id: str):
    user_id, _sep, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None  # a cookie from before session epochs, or forged: log in again
    with runtime().Session() as session:
        user = session.get(User, int(user_id))
        if user is None or not user.active or (user.session_epoch or 0) != int(epoch):
            return None
        return SessionUser(user)


class LoginForm(FlaskForm):
    name = StringField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        # Behind a proxy every client has the proxy's address: count by address only when one is trusted.
        address = request.remote_addr if runtime().settings.server.trusted_proxies else None
        with runtime().Session.begin() as session:
            if throttle.blocked(session, form.name.data, address):
                minutes = int(throttle.WINDOW.total_seconds() // 60)
                flash(_("Too many failed logins. Wait %(minutes)d minutes and try again.", minutes=minutes), "error")
                response = make_response(render_template("login.html", form=form, first_run=False), 429)
                response.headers["Retry-After"] = str(int(throttle.WINDOW.total_seconds()))
                return response
            user = accounts.authenticate(session, form.name.data, form.password.data)
            if user is None:
                throttle.record_failure(session, form.name.data, address)
            else:
                throttle.clear(session, form.name.data)
            session_user = SessionUser(user) if user else None
        if session_user is not None:
            login_user(session_user)
            return redirect(safe_target(request.args.get("next"), url_for("needs.table")))
        flash(_("Wrong name or password."), "error")
    return render_template("login.html", form=form, first_run=no_user_yet()), 200 if request.method == "GET" or form.errors == {} else 400


class SetupForm(FlaskForm):
    name = StringField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])
    again = PasswordField(validators=[DataRequired()])


def no_user_yet() -> bool:
    with runtime().Session() as session:
        return session.scalars(select(User.id).limit(1)).first() is None


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """On a fresh install, while no user exists: create the first admin. Afterwards there is no such page."""
    if not no_user_yet():
        abort(404)
    form = SetupForm()
    problem = None
    if form.validate_on_submit():
        if form.password.data != form.again.data:
            problem = _("The two passwords differ.")
        elif len(form.password.data) < accounts.MIN_PASSWORD:
            problem = _("The password needs at least %(count)d characters.", count=accounts.MIN_PASSWORD)
        else:
            with runtime().Session.begin() as session:
                # Checked again inside the transaction: two first visitors must not both become admins.
                if session.scalars(select(User.id).limit(1)).first() is not None:
                    abort(404)
                user = accounts.add_user(session, form.name.data, form.password.data, "admin")
                user.last_login_at = utcnow()  # logged in at once, below
                session_user = SessionUser(user)
            login_user(session_user)
            flash(_("Welcome, %(name)s: you are the first admin.", name=session_user.name), "success")
            return redirect(url_for("admin.customers_page"))
    elif form.errors:
        problem = _("Fill in every field.")
    if problem:
        flash(problem, "error")
    return render_template("setup.html", form=form), 400 if problem else 200


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out everywhere: every session of this user ends, in this browser and in any other."""
    if current_user.is_authenticated:
        with runtime().Session.begin() as session:
            accounts.end_sessions(session, int(current_user.id))
    logout_user()
    return redirect(url_for("auth.login"))


def api_token_required(view):
    """Require ``Authorization: Bearer <token>``; answers 401 JSON otherwise. Sets ``g.api_user`` and
    ``g.api_role``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("send an API token as 'Authorization: Bearer <token>'")
        with runtime().Session.begin() as session:
            user = accounts.user_for_token(session, token.strip())
            g.api_user, g.api_role = (user.name, user.role) if user else (None, None)
        if g.api_user is None:
            return _unauthorized("the API token is unknown or revoked")
        return view(*args, **kwargs)

    return wrapped


def _unauthorized(message: str):
    response = jsonify({"error": "unauthorized", "message": message})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="cocreate"'
    return response


def admin_check():
    """None for an admin; else the login page (anonymous) or 403 (a CS user)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


def admin_required(view):
    """For admins only. Every page under ``/admin/`` is held this way already (``webhooks.security``)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return admin_check() or view(*args, **kwargs)

    return wrapped
