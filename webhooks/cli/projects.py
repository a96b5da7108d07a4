"""``cocreate project``: co-creation projects from the command line (add, list, show), checked as the project
form is (``sync.ledger.projects``)."""

from __future__ import annotations

import json

import click

from webhooks.cli.common import config_option, runtime_for


@click.group()
def project() -> None:
    """Co-creation projects and their acceptance criteria."""


@project.command("add")
@config_option
@click.argument("key")
@click.option("--customer", required=True, help="The customer's key, name or another name.")
@click.option("--name", required=True, help="The project's name.")
@click.option("--goal", default="", help="What the project is for.")
@click.option("--go-live", "go_live", default=None, metavar="YYYY-MM-DD", help="The go-live date.")
@click.option("--status", default="planning", show_default=True,
              type=click.Choice(["planning", "building", "acceptance", "rollout", "closed"]))
@click.option("--cadence", default=None, type=click.Choice(["weekly", "fortnightly", "monthly"]),
              help="Of the regular meeting.")
@click.option("--lead", default=None, help="Our project lead.")
@click.option("--interface", "interface", nargs=3, default=None, metavar="NAME ROLE CONTACT",
              help="The customer's interface person.")
@click.option("--contacts", default=None, help='Emergency contacts as JSON, e.g. \'[{"side": "ours", "name": '
                                                '"Wang Wei", "channel": "email", "address": "w@example.com"}]\'.')
@click.option("--criterion", "criteria", multiple=True, nargs=3, metavar="WHAT TARGET MEASURED_BY",
              help="An acceptance criterion (repeat for more).")
def project_add(config: str | None, key: str, interface, contacts: str | None, criteria, **fields) -> None:
    """Add project KEY with its acceptance criteria."""
    from sync.ledger.projects import InvalidProject, add_project

    data = {"key": key, **fields}
    if interface:
        data["interface_name"], data["interface_role"], data["interface_contact"] = interface
    if contacts is not None:
        try:
            data["emergency_contacts"] = json.loads(contacts)
        except ValueError as exc:
            raise click.ClickException(f"--contacts is not JSON: {exc}") from exc
        if not isinstance(data["emergency_contacts"], list):
            raise click.ClickException("--contacts must be a JSON array of contacts")
    rows = [{"what": what, "target": target, "measured_by": measured_by} for what, target, measured_by in criteria]
    try:
        added = add_project(runtime_for(config), data, actor="cli", criteria=rows)
    except InvalidProject as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"project {added.key} added ({added.name}, {len(added.criteria)} criteria)")


@project.command("list")
@config_option
@click.option("--customer", default=None, metavar="KEY", help="Only this customer's projects.")
def project_list(config: str | None, customer: str | None) -> None:
    """List the projects: key, customer, status, go-live, days to go, criteria met, needs."""
    from sync.ledger.projects import days_to_go_live, list_projects, project_counts

    runtime = runtime_for(config)
    with runtime.Session() as session:
        for row in list_projects(session, customer=customer):
            counts = project_counts(session, row.id)
            days = days_to_go_live(row)
            click.echo(f"{row.key}\t{row.customer}\t{row.status}\t{row.go_live or '-'}\t"
                       f"{'-' if days is None else f'{days} day(s)'}\t"
                       f"{counts.criteria_met}/{counts.criteria} met\t{counts.needs} need(s)\t{row.name}")


@project.command("show")
@config_option
@click.argument("key")
def project_show(config: str | None, key: str) -> None:
    """Show project KEY: its fields, criteria (state, sign-off, needs) and needs."""
    from sync.ledger.projects import UnknownProject, criterion_needs, days_to_go_live, get_project, project_needs

    runtime = runtime_for(config)
    with runtime.Session() as session:
        try:
            row = get_project(session, key)
        except UnknownProject as exc:
            raise click.ClickException(f"no project {key}") from exc
        linked = criterion_needs(session, [criterion.id for criterion in row.criteria])
        needs = project_needs(session, row.id)
    days = days_to_go_live(row)
    click.echo(f"{row.key}: {row.name} ({row.customer}), {row.status}")
    click.echo(f"goal: {row.goal or '-'}")
    click.echo(f"go-live: {row.go_live or '-'}" + ("" if days is None else f" ({days} day(s) to go)"))
    click.echo(f"cadence: {row.cadence or '-'}; lead: {row.lead or '-'}; interface: "
               f"{' / '.join(filter(None, (row.interface_name, row.interface_role, row.interface_contact))) or '-'}")
    for contact in row.emergency_contacts or []:
        click.echo(f"emergency ({contact['side']}): {contact['name']} {contact.get('role') or ''} "
                   f"{contact['channel']} {contact['address']}".replace("  ", " "))
    click.echo("criteria:")
    for number, criterion in enumerate(row.criteria, start=1):
        signed = f", signed off by {criterion.signed_off_by} {criterion.signed_off_at:%Y-%m-%d}" \
            if criterion.signed_off_by else ""
        refs = ", ".join(need.ref for need in linked.get(criterion.id, [])) or "-"
        click.echo(f"  {number}. [{criterion.state}] {criterion.what} | target: {criterion.target or '-'} | "
                   f"measured by: {criterion.measured_by or '-'}{signed} | needs: {refs}")
    click.echo(f"needs ({len(needs)}):")
    for need in needs:
        click.echo(f"  {need.ref}\t{need.status}\t{need.urgency}\t{need.title}")
