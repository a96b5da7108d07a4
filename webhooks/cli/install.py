"""``cocreate install github|jira``: what a tracker admin sets so R&D's changes reach Cocreate, or register it.

Without ``--register`` the commands only print the webhook settings (the secret masked unless ``--show-secret``);
with it they create or update the webhooks through the tracker's API, idempotently. Exit codes: 2 for a config
that cannot work (no tracker, another tracker kind, no webhook secret), 1 when the tracker refuses.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote, urlsplit

import click
import yaml

from plugin.errors import (
    TrackerAuthError,
    TrackerError,
    TrackerRateLimited,
    TrackerUnavailable,
)
from plugin.loading import config_path
from plugin.settings import Settings
from plugin.tracker_settings import TrackerSettings
from webhooks.cli.common import EXIT_CONFIG, config_option, settings_or_exit

MASK = "********"
_ENV_ONLY = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}

show_secret_option = click.option("--show-secret", is_flag=True, help="Print the secret instead of masking it.")
register_option = click.option("--register", is_flag=True,
                               help="Create or update the webhook through the tracker's API (needs admin rights).")
resend_secret_option = click.option(
    "--resend-secret", is_flag=True,
    help="With --register: write the secret even where nothing else changed (after rotating it); trackers never "
         "show a stored secret, so Cocreate cannot tell it changed.")


@click.group()
def install() -> None:
    """Connect a tracker's webhooks to Cocreate: print what an admin sets, or register it with --register."""




# GitHub -------------------------------------------------------------------------------------------


@install.command("github")
@config_option
@register_option
@show_secret_option
@resend_secret_option
def install_github(config: str | None, register: bool, show_secret: bool, resend_secret: bool) -> None:
    """The webhook each configured repository (categories[].github_repo) needs, or register it (--register)."""
    from plugin.github.adapter import GitHubAdapter

    if resend_secret and not register:
        raise click.UsageError("--resend-secret goes with --register")
    settings = settings_or_exit(config)
    tracker = _tracker(settings, "github")
    assert tracker.github is not None  # TrackerSettings checks the section for its kind
    secret = settings.webhooks.github_secret
    if not secret:
        _config_problem("webhooks.github_secret is not set: GitHub signs every delivery with it and Cocreate refuses "
                        "unsigned ones. Generate one (python -c 'import secrets; print(secrets.token_hex(32))'), put "
                        "it in the environment and add 'github_secret: ${GITHUB_WEBHOOK_SECRET}' under webhooks:")
    url = _endpoint(settings, "github")
    repos = _unique(category.github_repo for category in settings.categories if category.github_repo)
    _warn_if_unreachable(settings.base_url, "GitHub")
    uses_app = not tracker.github.token
    if not register:
        _print_github(url, _shown(secret, show_secret), _source(config, "github_secret"), repos, uses_app)
        return
    if uses_app:
        _config_problem("tracker.github uses a GitHub App, which receives events through the App's own webhook (set "
                        "it in the App's settings, as 'cocreate install github' prints); --register creates "
                        "repository webhooks, which would deliver every event twice, and needs tracker.github.token")
    adapter = GitHubAdapter(tracker.github)
    click.echo(f"Registering {url} in {len(repos)} repositor{'y' if len(repos) == 1 else 'ies'}:")
    failures = 0
    for repo in repos:
        try:
            lines = adapter.register_webhook(url, secret, [repo], resend_secret=resend_secret)
        except (TrackerAuthError, TrackerRateLimited, TrackerUnavailable) as exc:
            # Not about this one repository: the next ones would fail the same way.
            raise click.ClickException(f"{repo}: {exc}") from exc
        except TrackerError as exc:
            click.echo(f"  {repo}: failed: {exc}", err=True)
            failures += 1
            continue
        for line in lines:
            click.echo(f"  {line}")
    if failures:
        raise click.ClickException(f"{failures} of {len(repos)} repositories could not be set up (see above)")


def _print_github(url: str, secret: str, source: str, repos: list[str], uses_app: bool) -> None:
    from plugin.github.adapter import WEBHOOK_EVENTS as GITHUB_EVENTS

    echo = click.echo
    if uses_app:
        echo("tracker.github uses a GitHub App: set the webhook in the App's settings (see the end); "
             "repository webhooks are not needed.")
        echo()
    echo("In each repository: Settings > Webhooks > Add webhook (needs admin access to the repository)")
    echo(f"  Repositories:      {', '.join(repos)}")
    echo(f"  Payload URL:       {url}")
    echo("  Content type:      application/json")
    echo(f"  Secret:            {secret}")
    echo(f"                     ({source})")
    echo("  SSL verification:  Enable SSL verification")
    echo("  Events:            Let me select individual events: Issues, Issue comments, Releases "
         f"({', '.join(GITHUB_EVENTS)}); untick Pushes")
    echo("  Active:            ticked")
    echo()
    echo("For a GitHub App (App settings > General > Webhook, and Permissions & events):")
    echo(f"  Webhook URL:       {url}")
    echo("  Webhook secret:    the secret above")
    echo("  Repository permissions: Issues: Read and write; Metadata: Read-only")
    echo(f"  Subscribe to events:    Issues, Issue comment ({', '.join(GITHUB_EVENTS)})")
    echo()
    if not uses_app:
        echo("Or let Cocreate do it: cocreate install github --register (the token needs admin access to the "
             "repositories: classic scope admin:repo_hook, or fine-grained 'Webhooks: Read and write').")


# Jira ---------------------------------------------------------------------------------------------


@install.command("jira")
@config_option
@register_option
@show_secret_option
@resend_secret_option
def install_jira(config: str | None, register: bool, show_secret: bool, resend_secret: bool) -> None:
    """Jira's admin webhook for the configured projects (categories[].jira_project), or register it (--register)."""
    from plugin.jira.adapter import JiraAdapter, jql_string

    if resend_secret and not register:
        raise click.UsageError("--resend-secret goes with --register")
    settings = settings_or_exit(config)
    tracker = _tracker(settings, "jira")
    assert tracker.jira is not None  # TrackerSettings checks the section for its kind
    webhooks = settings.webhooks
    if not webhooks.jira_secret and not webhooks.jira_url_token:
        _config_problem("neither webhooks.jira_secret nor webhooks.jira_url_token is set: set jira_secret (Jira Cloud, "
                        "Data Center 10 and later sign deliveries with it), or jira_url_token for a Jira that cannot "
                        "sign (older Data Center, Automation 'Send web request'); keep either in the environment, "
                        "e.g. 'jira_secret: ${JIRA_WEBHOOK_SECRET}'")
    url = _endpoint(settings, "jira")
    token_url = f"{url}?token={quote(webhooks.jira_url_token, safe='')}" if webhooks.jira_url_token else None
    projects = _unique(category.jira_project for category in settings.categories if category.jira_project)
    jql = f"project in ({', '.join(jql_string(project) for project in sorted(projects))})"
    _warn_if_unreachable(settings.base_url, "Jira")
    if not register:
        _print_jira(settings, config, url, token_url, jql, show_secret)
        _print_demand_field(tracker.jira.demand_field)
        return
    adapter = JiraAdapter(tracker.jira)
    if webhooks.jira_secret:
        target, secret = url, webhooks.jira_secret
    else:
        assert token_url is not None
        target, secret = token_url, None
    click.echo(f"Registering Jira's admin webhook for {', '.join(projects)}"
               f"{' (authenticated by the token in its URL)' if secret is None else ''}:")
    try:
        lines = adapter.register_webhook(target, secret, projects, resend_secret=resend_secret)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in lines:
        click.echo(f"  {line}")


def _print_demand_field(field: str | None) -> None:
    """How to make the Number field R&D sorts issues by (JQL ``ORDER BY "Customer demand" DESC``)."""
    echo = click.echo
    echo()
    if field:
        echo(f"Customer demand: written to {field} (tracker.jira.demand_field) whenever an issue's score changes.")
        echo('  R&D can sort by it: ORDER BY "Customer demand" DESC')
        return
    echo("Customer demand (optional): Cocreate can write each issue's demand score to a number field, so that R&D "
         'can sort by it (JQL: ORDER BY "Customer demand" DESC).')
    echo("  1. In Jira: Settings > Issues > Custom fields > Create custom field > Number Field")
    echo('     Name: Customer demand; add it to the screens of the projects above.')
    echo("  2. Its id: open the field's ... > Edit details; the URL ends in id=NNNNN (or GET /rest/api/3/field).")
    echo("  3. In the config: tracker: jira: demand_field: customfield_NNNNN")
    echo("     (the score is in the issue's Cocreate section of the description either way)")


def _print_jira(settings: Settings, config: str | None, url: str, token_url: str | None, jql: str,
                show_secret: bool) -> None:
    from plugin.jira.adapter import WEBHOOK_EVENTS as JIRA_EVENTS
    from plugin.jira.adapter import WEBHOOK_NAME as JIRA_WEBHOOK_NAME

    echo = click.echo
    webhooks = settings.webhooks
    deployment = settings.tracker.jira.deployment if settings.tracker and settings.tracker.jira else "cloud"
    masked_token_url = f"{url}?token={MASK}"
    echo("In Jira: Settings > System > WebHooks > Create a WebHook (needs the Jira Administrators permission)")
    echo(f"  Name:          {JIRA_WEBHOOK_NAME}")
    if webhooks.jira_secret:
        echo(f"  URL:           {url}")
        echo(f"  Secret:        {_shown(webhooks.jira_secret, show_secret)}")
        echo(f"                 ({_source(config, 'jira_secret')})")
    else:
        echo(f"  URL:           {token_url if show_secret else masked_token_url}")
        echo(f"                 (the token is {_source(config, 'jira_url_token')})")
        echo("  Secret:        leave empty: the token in the URL authenticates each delivery")
    echo("  Events:        Issue: created, updated, deleted; Comment: created, updated, deleted; Version: released")
    echo(f"                 ({', '.join(JIRA_EVENTS)})")
    echo(f"  JQL:           {jql}")
    echo("  Exclude body:  no (leave it unticked: Cocreate reads the event from the body)")
    if webhooks.jira_secret and token_url and deployment == "datacenter":
        echo()
        echo("If this Jira's WebHooks page has no Secret field (older Data Center), it cannot sign deliveries: "
             "leave Secret out and use this URL instead:")
        echo(f"  URL:           {token_url if show_secret else masked_token_url}")
        echo(f"                 (the token is {_source(config, 'jira_url_token')})")
    echo()
    echo("Or let Cocreate do it: cocreate install jira --register (Cocreate's Jira account needs the Jira "
         "Administrators permission; Jira Data Center 10 moved its webhooks API, so there create it by hand as above).")


# Shared helpers -----------------------------------------------------------------------------------


def _config_problem(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_CONFIG)


def _tracker(settings: Settings, kind: str) -> TrackerSettings:
    """The configured tracker if it is ``kind``; otherwise exit 2 saying what to do."""
    if settings.tracker is None:
        _config_problem(f"no tracker is configured: add a 'tracker:' section with 'kind: {kind}' to the config file "
                        f"(see config/cocreate.{kind}.example.yaml), or point --config at it")
    if settings.tracker.kind != kind:
        _config_problem(f"the configured tracker is {settings.tracker.kind}, not {kind}: "
                        f"run 'cocreate install {settings.tracker.kind}'")
    return settings.tracker


def _endpoint(settings: Settings, tracker: str) -> str:
    return f"{settings.base_url.rstrip('/')}/webhooks/{tracker}"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _shown(secret: str, show: bool) -> str:
    return secret if show else f"{MASK} (masked; --show-secret prints it)"


def _source(config: str | None, key: str) -> str:
    """Where ``webhooks.<key>`` comes from, in the admin's words: the file, and the environment variable if any."""
    path = Path(config) if config else config_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return f"webhooks.{key}"
    value = (raw.get("webhooks") or {}).get(key) if isinstance(raw, dict) else None
    match = _ENV_ONLY.match(value.strip()) if isinstance(value, str) else None
    if match:
        return f"webhooks.{key} in {path}, from the environment variable {match.group(1)}"
    return f"webhooks.{key} in {path}; better keep it in the environment as ${{VARIABLE}}"


def _warn_if_unreachable(base_url: str, tracker: str) -> None:
    host = urlsplit(base_url).hostname or ""
    if host in _LOCAL_HOSTS or host.endswith(".local"):
        click.echo(f"Warning: base_url is {base_url}, which {tracker} cannot reach: set base_url to the address "
                   "Cocreate is reached at from the tracker", err=True)
