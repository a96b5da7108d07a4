"""A seeded set of tracker issues with needs and the ranking the demand formula gives it (``EXPECTED``), shared by
the ranking tests of the page and of the JSON API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from sync.ledger.store import Need
from tests.factories import DEFAULT_YAML

YAML = DEFAULT_YAML.replace("""customers:
  - key: acme
    name: ACME Corp
    locale: en
""", """customers:
  - {key: acme, name: ACME Corp, locale: en, tier: strategic, annual_revenue: 2000000}
  - {key: globex, name: Globex, aliases: [Globex Inc], tier: enterprise, annual_revenue: 500000}
  - {key: initech, name: "=Initech"}
  - {key: hooli, name: Hooli, tier: standard, annual_revenue: 0}
""")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # the needs were reported 11 days and 2.5 hours before

# issue key, customer, urgency, category, status
SEEDED = [
    ("CS-1", "acme", "high", "billing", "new"),
    ("CS-1", "globex", "critical", "billing", "new"),
    ("CS-2", "initech", "critical", "billing", "new"),
    ("CS-3", "acme", "low", "billing", "accepted"),
    ("CS-4", "globex", "medium", "reports", "new"),
    ("CS-4", "hooli", "medium", "reports", "new"),
    ("CS-5", "initech", "high", "billing", "done"),
]

# issue key -> score: (sum of tier weight + revenue / 1,000,000) * most urgent + 0.1 * 11 days waited
EXPECTED = [
    ("CS-1", 32.6),   # (5 + 2 + 3 + 0.5) * critical 3 + 1.1
    ("CS-4", 5.6),    # (3 + 0.5 + 1 + 0) * medium 1 + 1.1
    ("CS-3", 4.6),    # (5 + 2) * low 0.5 + 1.1
    ("CS-2", 4.1),    # (no tier 1) * critical 3 + 1.1
    ("CS-5", 2.0),    # 1 * high 2; done, so nothing waits
]


def seed(runtime, make_need) -> None:
    """The needs of :data:`SEEDED`, each with its tracker issue as a sync would have recorded it: the first need
    of an issue owns it, the others are linked to it."""
    owners: set[str] = set()
    for key, customer, urgency, category, status in SEEDED:
        need = make_need(customer=customer, urgency=urgency, category=category)
        with runtime.Session.begin() as session:
            session.execute(update(Need).where(Need.ref == need.ref).values(
                issue_key=key, issue_url=f"https://jira.example/browse/{key}", status=status,
                linked_to=key if key in owners else None))
        owners.add(key)
