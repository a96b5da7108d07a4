"""Receivers for tracker webhooks: POST /webhooks/github and POST /webhooks/jira (one module per tracker).

Each tracker module declares a single table from event to handler and a separate list of ignored events;
``ladder`` holds the steps they share, ``releases`` the release events of both. A handled delivery is stored in the
inbox and queues ``apply_issue_change`` (a release: ``apply_release``); nothing calls a tracker inline.
"""

from flask import Blueprint

from webhooks.receiver import github, jira, ladder

bp = Blueprint("receiver", __name__, url_prefix="/webhooks")
bp.add_url_rule("/github", "github", github.receive, methods=["POST"])
bp.add_url_rule("/jira", "jira", jira.receive, methods=["POST"])
bp.add_url_rule("/jira/<token>", "jira_with_token", jira.receive, methods=["POST"])
bp.register_error_handler(ladder.Refused, ladder.refused)
