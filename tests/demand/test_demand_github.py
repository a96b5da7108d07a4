"""The demand score against a fake GitHub driven through the real PyGithub client: in the Cocreate body section
and as a band label, changed in the same PATCH as the body, the old band's label removed."""

import pytest

from sync.ledger.store import IssueDemand
from sync.loop import outbound
from tests.demand.helpers import demand_runtime, three_customers_before_the_tracker
from tests.factories import file_need
from tests.github.fake_github import checked_site
from tests.sync.trackers import stored

BANDS = """demand:
  age_factor: 0
  bands:
    - {label: "demand: high", min: 40}
    - {label: "demand: medium", min: 10}
    - {label: "demand: low", min: 0}
"""


@pytest.fixture
def site():
    with checked_site() as fake:
        yield fake


@pytest.fixture
def three(site, tmp_path):
    refs = three_customers_before_the_tracker("github", tmp_path, BANDS)
    runtime = demand_runtime("github", tmp_path, extra_yaml=BANDS)
    assert outbound.queue_resume(runtime) is True
    yield runtime, refs
    runtime.engine.dispose()


def labels(site, key="acme/billing#1"):
    return {label["name"] for label in site.issue(key)["labels"]}


def test_three_customers_give_the_band_and_the_section_in_the_create(site, three):
    runtime, refs = three
    assert {stored(runtime, ref).issue_key for ref in refs} == {"acme/billing#1"}
    assert site.writes == 1  # the create, with body and labels; the linked needs change nothing
    assert "demand: medium" in labels(site) and not {"demand: high", "demand: low"} & labels(site)
    body = site.issue("acme/billing#1")["body"]
    assert "Customer demand" in body and "34\\.5" in body and "Customers asking \\(3\\)" in body


def test_a_fourth_customer_moves_the_band_in_one_patch_and_a_resync_writes_nothing(site, three):
    runtime, refs = three
    site.edit("acme/billing#1", body="R&D notes.\n\n" + site.issue("acme/billing#1")["body"])
    writes = site.writes
    fourth = file_need(runtime, customer="umbrella", urgency="low", linked_to="N-0001")
    assert site.writes == writes + 1  # body and labels together
    assert "demand: high" in labels(site) and "demand: medium" not in labels(site)
    body = site.issue("acme/billing#1")["body"]
    assert body.startswith("R&D notes.") and "46\\.5" in body and "Customers asking \\(4\\)" in body
    with runtime.Session() as session:
        row = session.get(IssueDemand, "acme/billing#1")
        assert (row.score, row.label) == (46.5, "demand: high")

    writes = site.writes
    for ref in [*refs, fourth.ref]:
        runtime.queue.enqueue("sync_need", ref, ref=ref)
    assert site.writes == writes


def test_rd_labels_stay_when_the_band_changes(site, three):
    runtime, _refs = three
    site.edit("acme/billing#1", labels=[*labels(site), "backend"])
    file_need(runtime, customer="umbrella", urgency="low", linked_to="N-0001")
    assert {"backend", "demand: high", "cocreate"} <= labels(site)


def test_needs_linked_to_an_issue_rd_opened_get_band_and_score_in_one_patch_each(site, tmp_path):
    runtime = demand_runtime("github", tmp_path, extra_yaml=BANDS)
    key = f"acme/billing#{site.open_issue('acme/billing', 'Made by R&D', body='Steps to reproduce.')['number']}"
    writes = site.writes
    file_need(runtime, linked_to=key)
    assert site.writes == writes + 1
    assert "demand: medium" in labels(site, key)  # ACME alone: (5 + 2) * high's 2 = 14
    assert "14\\.0" in site.issue(key)["body"] and site.issue(key)["body"].startswith("Steps to reproduce.")
    file_need(runtime, customer="umbrella", urgency="critical", linked_to=key)
    assert site.writes == writes + 2  # (7 + 4) * critical's 3 = 33: the section changes, the band holds
    assert "33\\.0" in site.issue(key)["body"] and "demand: medium" in labels(site, key)
    writes = site.writes
    runtime.queue.enqueue("sync_need", "N-0001", ref="N-0001")
    assert site.writes == writes
    runtime.engine.dispose()
