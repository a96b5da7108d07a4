"""Receivers for tracker webhooks: POST /webhooks/github and POST /webhooks/jira."""

from flask import Blueprint

bp = Blueprint("receiver", __name__, url_prefix="/webhooks")
