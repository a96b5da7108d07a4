"""The demand ranking (``/demand``, ``GET /api/v1/demand``) of a 100,000-need table on SQLite: seconds to rank
every issue, and to rank the issues of one customer, with a few needs on each issue.

Run: ``.venv/bin/python bench/demand_bench.py [--smoke] [NEEDS]`` (``--smoke``: 300 needs). Prints its figures;
there is no target to hold, only a figure to watch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time

from _data import CONFIG  # bench/, the script's folder
from sqlalchemy import insert

from plugin.loading import parse_settings
from sync.ledger.store import Need
from sync.report.demand import ranked_issues
from sync.runtime import build_runtime

TIERED = CONFIG.replace("{key: acme, name: ACME Corp}", "{key: acme, name: ACME Corp, tier: strategic, "
                                                          "annual_revenue: 2000000}")


def need_rows(count: int):
    """``count`` needs, three in four on an issue (one to four needs an issue), the rest on none yet."""
    rng = random.Random(7)
    reported = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)
    issue, left = 0, 0
    for number in range(1, count + 1):
        on_issue = number % 4 != 0
        first = on_issue and left == 0  # the need that opens the next issue owns it
        if first:
            issue, left = issue + 1, rng.randint(1, 4)
        key = f"CS-{issue}" if on_issue else None
        if on_issue:
            left -= 1
        moment = reported + dt.timedelta(minutes=31 * number)
        yield {"id": number, "ref": f"N-{number:06d}", "category": rng.choice(["billing", "reports", "mobile"]),
               "title": f"Need {number}", "description": "",
               "urgency": rng.choice(["critical", "high", "medium", "low"]),
               "reporter_name": "Li Na", "reported_at": moment, "status": rng.choice(["new", "accepted", "done"]),
               "remarks": "", "customer": rng.choice(["acme", "globex", "initech"]), "created_at": moment,
               "updated_at": moment, "status_changed_at": moment, "issue_key": key,
               "issue_url": f"https://jira.example/browse/{key}" if key else None,
               "linked_to": None if first or not key else key, "sync_state": "synced" if key else "pending",
               "synced_fields": {}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("needs", nargs="?", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="300 needs")
    args = parser.parse_args()
    count = 300 if args.smoke else args.needs
    with tempfile.TemporaryDirectory() as home:
        runtime = build_runtime(parse_settings(TIERED, "bench.yaml"), {"COCREATE_HOME": home}, immediate=True)
        rows = list(need_rows(count))
        with runtime.Session.begin() as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(Need), rows[start:start + 5000])
        for label, filters in (("every issue", {}), ("customer acme", {"customer": "acme"}),
                               ("category reports", {"category": "reports"})):
            started = time.perf_counter()
            ranked = ranked_issues(runtime, **filters)
            seconds = time.perf_counter() - started
            print(f"{count} needs, {label}: {len(ranked)} issues ranked in {seconds:.3f} s"
                  f" (top score {ranked[0].demand.score if ranked else '-'})")
        runtime.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
