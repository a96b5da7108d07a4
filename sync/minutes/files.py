"""Minutes as files: export to Markdown, and import from Markdown or YAML into what ``validate_minutes`` checks."""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from plugin.catalogs import catalog
from plugin.customer import CustomerBook
from plugin.need import N_, FieldError
from plugin.settings import LOCALES, Settings
from sync.ledger.store import MeetingMinutes
from sync.minutes.records import IMPORT_MAX_BYTES, VISIBILITIES, InvalidMinutes

_HEADER_FIELDS = ("customer", "date", "time", "place", "attendees", "visibility", "external_url")
_SECTIONS = ("key_points", "decisions", "action_items", "open_questions", "needs")
_COLUMNS = ("text", "owner", "due_date")


@functools.cache
def _labels(locale: str) -> dict[str, str]:
    """Headings and field names of the Markdown files and of action-item issues in ``locale``; an import
    understands any language's."""
    words = catalog(locale)
    return {
        "customer": words.gettext("Customer"),
        "date": words.gettext("Date"),
        "time": words.gettext("Time"),
        "place": words.gettext("Place"),
        "attendees": words.gettext("Attendees"),
        "visibility": words.gettext("Visibility"),
        "external_url": words.gettext("External page"),
        "key_points": words.gettext("Key points"),
        "decisions": words.gettext("Decisions"),
        "action_items": words.gettext("Action items"),
        "open_questions": words.gettext("Open questions"),
        "needs": words.pgettext("minutes", "Needs"),
        "text": words.gettext("Action"),
        "owner": words.pgettext("minutes", "Owner"),
        "due_date": words.gettext("Due date"),
        "action_item": words.gettext("Meeting action item"),
        "internal": words.gettext("Internal"),
        "shared": words.gettext("Shared with the customer"),
    }


def label(key: str, locale: str) -> str:
    return _labels(locale)[key]


def _names(keys) -> dict[str, str]:
    """Any language's name (and the key itself, with spaces or underscores) -> the key."""
    names = {}
    for key in keys:
        for text in (*(label(key, locale) for locale in LOCALES), key, key.replace("_", " ")):
            names[text.casefold()] = key
    return names


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _section_text(text: str) -> str:
    # A line starting with # would read as a heading on import: escape it as Markdown does.
    return "\n".join("\\" + line if line.startswith("#") else line for line in text.replace("\r\n", "\n").split("\n"))


def minutes_markdown(minutes: MeetingMinutes, settings: Settings, locale: str,
                     customers: CustomerBook = CustomerBook()) -> str:
    """The minutes as a Markdown file in ``locale``'s words; :func:`parse_markdown` reads it back."""
    customer = customers.get(minutes.customer)
    lines = [f"# {minutes.topic}", ""]
    values = {
        "customer": minutes.customer + (f" ({customer.name})" if customer and customer.name != minutes.customer
                                        else ""),
        "date": minutes.meeting_date.isoformat(),
        "time": minutes.meeting_time.strftime("%H:%M") if minutes.meeting_time else "",
        "place": minutes.place,
        "attendees": ", ".join(minutes.attendees or []),
        "visibility": label(minutes.visibility, locale),
        "external_url": minutes.external_url or "",
    }
    for key in _HEADER_FIELDS:
        if values[key]:
            lines.append(f"- {label(key, locale)}: {values[key].replace(chr(10), ' ')}")
    for key in ("key_points", "decisions"):
        if getattr(minutes, key):
            lines += ["", f"## {label(key, locale)}", "", _section_text(getattr(minutes, key))]
    if minutes.action_items:
        lines += ["", f"## {label('action_items', locale)}", "",
                  "| " + " | ".join(label(column, locale) for column in _COLUMNS) + " |",
                  "|" + "---|" * len(_COLUMNS)]
        for item in minutes.action_items:
            due = item.due_date.isoformat() if item.due_date else ""
            lines.append(f"| {_cell(item.text)} | {_cell(item.owner)} | {due} |")
    if minutes.open_questions:
        lines += ["", f"## {label('open_questions', locale)}", "", _section_text(minutes.open_questions)]
    if minutes.need_links:
        lines += ["", f"## {label('needs', locale)}", ""]
        for link in minutes.need_links:
            lines.append(f"- {link.need.ref} {link.need.title.replace(chr(10), ' ')}")
    return "\n".join(lines).rstrip() + "\n"


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body.removeprefix("|")
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells, current, escaped = [], [], False
    for char in body:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
    cells.append("".join(current))
    return [cell.strip().replace("<br>", "\n") for cell in cells]


def parse_markdown(text: str) -> dict[str, Any]:
    """Read minutes written as Markdown (the format :func:`minutes_markdown` writes) into the dict
    :func:`validate_minutes` takes. Raises :class:`InvalidMinutes` naming an unknown field, section or
    column, or the line that does not fit."""
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    fields, sections, columns = _names(_HEADER_FIELDS), _names(_SECTIONS), _names(_COLUMNS)
    section: str | None = None
    body: dict[str, list[str]] = {}
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.rstrip()
        if line.startswith("# ") and section is None and "topic" not in data:
            data["topic"] = line[2:].strip()
        elif line.startswith("## "):
            name = line[3:].strip()
            section = sections.get(name.casefold())
            if section is None:
                errors.append(FieldError(name, N_("Unknown section (line %(line)d)."), {"line": number}))
                section = "unknown"
            body.setdefault(section, [])
        elif section is None:
            if not line.strip():
                continue
            match = re.match(r"^\s*[-*]\s*([^:：]+?)\s*[:：]\s*(.*)$", line)
            key = fields.get(match.group(1).casefold()) if match else None
            if match is None:
                errors.append(FieldError("file", N_("Line %(line)d: write header fields as '- Field: value'."),
                                         {"line": number}))
            elif key is None:
                errors.append(FieldError(match.group(1), N_("Unknown field (line %(line)d)."), {"line": number}))
            else:
                data[key] = match.group(2).strip()
        else:
            body[section].append(line)
    if "customer" in data:
        data["customer"] = re.sub(r"\s*\(.*\)$", "", data["customer"])  # "acme (ACME Corp)" as exported
    for key in ("key_points", "decisions", "open_questions"):
        if key in body:
            data[key] = "\n".join(line[1:] if line.startswith("\\#") else line for line in body[key]).strip()
    if "action_items" in body:
        data["action_items"] = _parse_table(body["action_items"], columns, errors)
    if "needs" in body:
        refs = []
        for line in body["needs"]:
            if not line.strip():
                continue
            match = re.match(r"^\s*[-*]\s*(N-\d+)\b", line, re.IGNORECASE)
            if match is None:
                errors.append(FieldError("needs", N_("Write each need as '- N-0042 title'.")))
            else:
                refs.append(match.group(1))
        data["needs"] = refs
    if "visibility" in data:
        data["visibility"] = _names(VISIBILITIES).get(data["visibility"].casefold(), data["visibility"])
    if errors:
        raise InvalidMinutes(errors)
    return data


def _parse_table(lines: list[str], columns: dict[str, str], errors: list[FieldError]) -> list[dict[str, str]]:
    rows = [line for line in lines if line.strip()]
    if not rows:
        return []
    if not all(line.lstrip().startswith("|") for line in rows):
        errors.append(FieldError("action_items", N_("Write the action items as a table with the columns "
                                                    "Action, Owner and Due date.")))
        return []
    header = _split_row(rows[0])
    keys = []
    for name in header:
        key = columns.get(name.casefold())
        if key is None:
            errors.append(FieldError(name, N_("Unknown column of the action items.")))
        keys.append(key)
    items = []
    for line in rows[1:]:
        cells = _split_row(line)
        if all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells):
            continue
        items.append({key: cell for key, cell in zip(keys, cells, strict=False) if key})
    return items


class _AliasFound(yaml.YAMLError):
    def __init__(self, mark):
        super().__init__("anchor or alias")
        self.problem_mark = mark


class _PlainLoader(yaml.SafeLoader):
    """YAML's safe loader without anchors and aliases: nested aliases ("billion laughs") would turn a few
    hundred bytes into gigabytes of values, and minutes never need them. Refused as the node is composed,
    before anything is built."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasFound(event.start_mark)
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> dict[str, Any]:
    """Read minutes written as YAML (keys as in :data:`FIELDS`) into the dict :func:`validate_minutes` takes.
    Anchors and aliases (``&a``, ``*a``) are refused."""
    try:
        data = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 (a SafeLoader)
    except _AliasFound as exc:
        raise InvalidMinutes([FieldError("file", N_("Line %(line)d: anchors and aliases (& and *) are not "
                                                    "accepted; write each value out."),
                                         {"line": exc.problem_mark.line + 1})]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidMinutes([FieldError("file", N_("Not valid YAML (line %(line)d): %(problem)s"),
                                         {"line": mark.line + 1 if mark else 1,
                                          "problem": getattr(exc, "problem", None) or str(exc)})]) from exc
    if not isinstance(data, dict):
        raise InvalidMinutes([FieldError("file", N_("The YAML file must hold one mapping of fields."))])
    if not all(isinstance(key, str) for key in data):
        raise InvalidMinutes([FieldError("file", N_("Name each field with plain text, as in topic: ..."))])
    return data


def parse_minutes_file(filename: str, content: bytes) -> dict[str, Any]:
    """An uploaded ``.md`` or ``.yaml``/``.yml`` file -> the dict :func:`validate_minutes` takes."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("md", "markdown", "yaml", "yml"):
        raise InvalidMinutes([FieldError("file", N_("Upload a .md, .yaml or .yml file."))])
    if len(content) > IMPORT_MAX_BYTES:
        raise InvalidMinutes([FieldError("file", N_("The file is larger than %(size)s."), {"size": "1 MB"})])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidMinutes([FieldError("file", N_("The file is not UTF-8 text."))]) from exc
    return parse_markdown(text) if suffix in ("md", "markdown") else parse_yaml(text)


