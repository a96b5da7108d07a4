"""The need -> issue mapping, table-tested: projects, labels, priority, assignee, escaping per destination."""

import datetime as dt
import json

import pytest

from plugin.customer import CustomerRecord, book_of
from plugin.loading import parse_settings
from sync.loop import mapping
from sync.loop.mapping import Asking, NeedView

BASE = """
locale: en
categories:
  - {key: billing, name: Billing, jira_project: BILL, github_repo: acme/billing}
people:
  - {name: Wang Wei, email: wang.wei@example.com, jira_account_id: acc-wang, github_login: wangwei}
  - {name: Chen Jie, email: chen.jie@example.com}
"""
CUSTOMERS = book_of([CustomerRecord(key="acme", name="ACME Corp"), CustomerRecord(key="globex", name="Globex")])
"""The customer records the mapping names customers by (the store's, in the running system)."""
TRACKERS = {
    "cloud": "tracker: {kind: jira, jira: {url: 'https://x.atlassian.net', email: a@b.c, api_token: t}}\n",
    "datacenter": "tracker: {kind: jira, jira: {url: 'https://jira.x', deployment: datacenter, "
                  "personal_access_token: t}}\n",
    "github": "tracker: {kind: github, github: {token: t}}\n",
}


def settings_for(kind: str):
    return parse_settings(BASE + TRACKERS[kind], "t.yaml")


def view(**overrides) -> NeedView:
    fields = dict(ref="N-0042", category="billing", title="Tax number on invoices", description="Please add it.",
                  urgency="high", reporter_name="Li Na", reported_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC),
                  customer="acme", owner="Wang Wei", remarks="", stage="rollout",
                  url="https://cocreate.example/needs/N-0042")
    fields.update(overrides)
    return NeedView(**fields)


@pytest.mark.parametrize(("kind", "project", "priority", "assignee", "urgency_label"), [
    ("cloud", "BILL", "High", "acc-wang", None),
    ("datacenter", "BILL", "High", "acc-wang", None),
    ("github", "acme/billing", None, "wangwei", "urgency: high"),
])
def test_fields_per_tracker(kind, project, priority, assignee, urgency_label):
    spec = mapping.map_need(settings_for(kind), view(), customers=CUSTOMERS).spec
    assert spec.project == project
    assert spec.priority == priority
    assert spec.assignee == assignee
    assert spec.title == "[ACME Corp] Tax number on invoices"
    assert spec.marker == "cocreate-N-0042"
    expected = {"cocreate", "cocreate-N-0042", "category-billing", "stage-rollout"} | (
        {urgency_label} if urgency_label else set())
    assert spec.labels == frozenset(expected)


@pytest.mark.parametrize(("owner", "assignee", "note"), [
    ("Wang Wei", "acc-wang", None),
    ("wang wei", "acc-wang", None),
    ("wang.wei@example.com", "acc-wang", None),
    ("Chen Jie", None, "Chen Jie: not in the people directory, left unassigned"),
    ("Someone Else", None, "Someone Else: not in the people directory, left unassigned"),
    (None, None, None),
])
def test_owner_to_assignee_never_guesses(owner, assignee, note):
    assignment = mapping.assignee_for(settings_for("cloud"), owner)
    assert (assignment.assignee, assignment.note) == (assignee, note)


def test_most_urgent_customer_sets_priority_and_all_are_listed():
    asking = [Asking("N-0042", "acme", "high"), Asking("N-0050", "globex", "critical")]
    mapped = mapping.map_need(settings_for("cloud"), view(), asking, customers=CUSTOMERS)
    assert mapped.spec.priority == "Highest"
    text = str(mapped.spec.body)
    assert "Customers asking (2)" in text and "Globex · Critical · N-0050" in text


def test_adf_is_text_nodes_only_and_neutralises_mentions():
    hostile = "Hi @all [~accountid:5b10] {color:red}x{color} <script>alert(1)</script>\nline 2"
    body = mapping.map_need(settings_for("cloud"), view(description=hostile)).spec.body
    assert body["type"] == "doc" and body["version"] == 1
    first = body["content"][0]
    assert first["type"] == "paragraph"
    texts = [node for node in first["content"] if node["type"] == "text"]
    assert texts[0]["text"] == "Hi @\u200ball [\u200b~accountid:5b10] {color:red}x{color} <script>alert(1)</script>"
    assert [node["type"] for node in first["content"]] == ["text", "hardBreak", "text"]

    def walk(node):
        yield node
        for child in node.get("content", []):
            yield from walk(child)

    assert {node["type"] for node in walk(body)} <= {
        "doc", "paragraph", "text", "hardBreak", "heading", "table", "tableRow", "tableHeader", "tableCell"}


def test_wiki_markup_is_escaped():
    body = mapping.map_need(settings_for("datacenter"), view(description="*bold* [~admin] {code} |x| @all")).spec.body
    first = body.split("\n\n")[0]
    assert first == "\\*bold\\* \\[\u200b\\~admin\\] \\{code\\} \\|x\\| @\u200ball"
    assert "[N\\-0042|https://cocreate.example/needs/N-0042]" in body


def test_markdown_is_escaped_and_kept_between_markers():
    body = mapping.map_need(settings_for("github"), view(description="# hi @octocat <img src=x>")).spec.body
    assert body.startswith(mapping.GITHUB_SECTION_START) and body.endswith(mapping.GITHUB_SECTION_END)
    assert "\\# hi @\u200boctocat \\<img src\\=x\\>" in body
    assert "[N\\-0042](<https://cocreate.example/needs/N-0042>)" in body


def test_github_section_is_spliced_in_place():
    section = f"{mapping.GITHUB_SECTION_START}\nnew\n{mapping.GITHUB_SECTION_END}"
    old = f"R&D notes above\n\n{mapping.GITHUB_SECTION_START}\nold\n{mapping.GITHUB_SECTION_END}\n\nand below"
    assert mapping.splice_github_section(old, section) == (
        f"R&D notes above\n\n{section}\n\nand below")
    assert mapping.splice_github_section(None, section) == section
    assert mapping.splice_github_section("Only R&D text", section) == f"Only R&D text\n\n{section}"


def test_labels_merge_keeps_rd_labels():
    merged = mapping.merge_labels(frozenset({"bug", "urgency: low", "cocreate"}),
                                  frozenset({"cocreate", "urgency: high"}),
                                  frozenset({"urgency: low", "urgency: high", "cocreate"}))
    assert merged == {"bug", "cocreate", "urgency: high"}


def test_localized_body_in_configured_language():
    settings = parse_settings(BASE.replace("locale: en", "locale: zh-Hant") + TRACKERS["github"], "t.yaml")
    body = mapping.map_need(settings, view()).spec.body
    assert "反饋人" in body and "緊急程度" in body and "推廣" in body


@pytest.mark.parametrize(("description", "shown"), [
    ("foo\n===", "foo  \n\\=\\=\\="),  # a setext heading underline, escaped
    ("foo\n---", "foo  \n\\-\\-\\-"),
    ("\\#123 and org/repo#9 and GH-4", "\\\\\\#\u2060123 and org/repo\\#\u20609 and GH\\-\u20604"),
    ("cc @octocat @acme/team", "cc @\u200boctocat @\u200bacme/team"),
])
def test_markdown_body_shows_the_text_as_written_and_links_or_pings_nothing(description, shown):
    body = mapping.map_need(settings_for("github"), view(description=description)).spec.body
    first = body.split("\n\n")[0].removeprefix(mapping.GITHUB_SECTION_START + "\n")
    assert first == shown


@pytest.mark.parametrize(("description", "shown"), [
    ("a \\\\ b \\ c", "a &#92;&#92; b &#92; c"),  # "\\" would be Jira's line break
    ("h1. Title", "h1\u2060. Title"),
    ("x\nbq. quoted", "x\\\\ bq\u2060. quoted"),
    ("{code}x{code} [link|https://evil.example]", "\\{code\\}x\\{code\\} \\[link\\|https://evil.example\\]"),
])
def test_wiki_body_shows_the_text_as_written(description, shown):
    body = mapping.map_need(settings_for("datacenter"), view(description=description)).spec.body
    assert body.split("\n\n")[0] == shown


@pytest.mark.parametrize("kind", ["cloud", "datacenter", "github"])
def test_a_body_past_the_trackers_limit_is_shortened_with_a_link_back(kind):
    settings = settings_for(kind)
    screenshots = tuple(mapping.Link(f"shot-{n}.png", f"https://cocreate.example/files/{n}") for n in range(900))
    need = view(description="說明" * 40_000, remarks="備註" * 20_000, screenshots=screenshots)
    destination = settings.tracker.section.body_format

    whole = mapping.issue_body(settings, mapping.need_blocks(settings, need, [], [], mapping.Assignment(None),
                                                              mapping.CustomerBook()))
    body = mapping.map_need(settings, need).spec.body

    assert mapping.body_size(whole) > mapping.BODY_LIMITS[destination]  # the need as it is would fail for good
    assert mapping.body_size(body) <= mapping.BODY_LIMITS[destination] - mapping.BODY_MARGIN
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    assert "說明說明" in text and "備註備註" in text  # both are kept, shortened
    assert text.count("the whole text is on the need page") == 2
    assert "https://cocreate.example/needs/N-0042" in text  # the link back
    assert "files/49" in text and "files/50" not in text and "850 more on the need page" in text


def test_a_body_within_the_limit_is_left_whole():
    need = view(description="x" * 30_000)
    body = mapping.map_need(settings_for("github"), need).spec.body
    assert "x" * 30_000 in body and "the whole text" not in body
