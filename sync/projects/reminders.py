"""The regular meeting's reminder: when a project's meeting is overdue (no meeting for longer than its cadence plus
``sync.projects.risk.MEETING_GRACE_DAYS``), its lead hears of it by e-mail, through the people directory (as SLA
escalations reach a need's owner).

``remind_overdue_meetings`` (job ``check_meetings``, queued every hour) writes one ``meeting`` outbox row per
project, overdue period and address, deduplicated by key: a project still without a meeting a cadence later is
reminded again, never twice in one period, whatever the number of checks. A closed project, one without a
cadence, or one whose lead has no e-mail in the people directory is reminded of nothing (the project page still
shows the risk flag).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import select

from plugin.catalogs import catalog
from sync.ledger.project_tables import Project
from sync.ledger.store import OutboxMessage, utcnow
from sync.loop.outbox import queue_new_rows
from sync.projects.meetings import last_meeting
from sync.projects.risk import CADENCE_DAYS, CADENCE_WORDS, meeting_overdue_since

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.projects")

MEETING = "meeting"
"""The outbox kind of a meeting reminder."""


def overdue_period(cadence: str, overdue_since: dt.date, today: dt.date) -> dt.date:
    """The first day of the overdue period ``today`` is in: ``overdue_since``, then one cadence later, ..."""
    step = CADENCE_DAYS[cadence]
    return overdue_since + dt.timedelta(days=(today - overdue_since).days // step * step)


def reminder_key(project_key: str, period: dt.date, email: str) -> str:
    """One overdue period of one project told to one address: the outbox's dedupe key."""
    digest = hashlib.sha256(email.casefold().encode()).hexdigest()[:16]
    return f"meeting:{project_key}:{period:%Y%m%d}:{digest}"


def remind_overdue_meetings(runtime: Runtime, today: dt.date | None = None) -> list[int]:
    """Write a reminder for every open project whose regular meeting is overdue ``today`` (once per overdue
    period and address) and queue its delivery; returns the ids of the rows written by this call."""
    settings = runtime.settings
    today = today or utcnow().date()
    people, customers = runtime.people(), runtime.customers()
    words = catalog(settings.locale)
    base = settings.base_url.rstrip("/")
    rows = []
    with runtime.Session() as session:
        projects = session.scalars(select(Project).where(Project.status != "closed", Project.cadence.is_not(None))
                                   .order_by(Project.id)).all()
        for project in projects:
            last = last_meeting(session, project.id)
            last_date = last.meeting_date if last else None
            started = project.created_at.date()
            since = meeting_overdue_since(project.cadence, last_date, started, today)
            person = people.person(project.lead) if project.lead else None
            if since is None or person is None or not person.email:
                continue
            customer = customers.get(project.customer)
            notice = {"locale": settings.locale, "lead_name": person.name, "project_name": project.name,
                      "customer_name": customer.name if customer else project.customer,
                      "cadence_label": words.gettext(CADENCE_WORDS[project.cadence]),
                      "days": (today - (last_date or started)).days,
                      "last_meeting": last_date.isoformat() if last_date else None,
                      "project_url": f"{base}/projects/{project.key}",
                      "minutes_url": f"{base}/minutes/new?"
                                     + urlencode({"project": project.key, "customer": project.customer})}
            period = overdue_period(project.cadence, since, today)
            rows.append(OutboxMessage(dedupe_key=reminder_key(project.key, period, person.email), kind=MEETING,
                                      customer=project.customer, channel="email", target=person.email,
                                      payload={"notice": notice, "project": project.key,
                                               "period": period.isoformat()}))
    written = [row.id for row in queue_new_rows(runtime, rows)]
    if written:
        log.info("projects: %d meeting reminder(s) queued", len(written))
    return written


def check_meetings(runtime: Runtime) -> None:
    """Remind leads of overdue regular meetings (queued hourly; safe to run at any time and as often as wanted)."""
    remind_overdue_meetings(runtime)
