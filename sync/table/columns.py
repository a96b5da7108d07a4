"""The requirement table's columns (keys, header names in three languages, widths), the import's problems and
report, and the errors a whole file gets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from plugin.need import N_

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of the table: its key, its header in each language, its export width, other header names
    it is known by, and whether import reads it (the tracker's issue and link are export-only)."""

    key: str
    headers: Mapping[str, str]
    width: int
    importable: bool = True
    aliases: tuple[str, ...] = ()
    exported: bool = True


def _column(key: str, zh_hant: str, zh_hans: str, en: str, width: int, *aliases: str,
            importable: bool = True, exported: bool = True) -> Column:
    return Column(key, {"zh_Hant": zh_hant, "zh_Hans": zh_hans, "en": en}, width, importable, aliases, exported)


COLUMNS: tuple[Column, ...] = (
    # The seed's columns, in its order ...
    _column("ref", "序號", "序号", "Ref", 10, "編號", "编号", "No.", "No", "#", "Sequence number"),
    _column("category", "產品類別", "产品类别", "Product category", 14, "類別", "类别", "Category", "Product"),
    _column("description", "問題詳細描述", "问题详细描述", "Description", 60,
            "問題描述", "问题描述", "需求描述", "Detailed description", "Problem description"),
    _column("screenshots", "問題截圖", "问题截图", "Screenshots", 18, "截圖", "截图", "Screenshot"),
    _column("urgency", "緊急程度", "紧急程度", "Urgency", 10, "優先級", "优先级", "Priority"),
    _column("reporter", "反饋人", "反馈人", "Reporter", 16, "反饋者", "反馈者", "提出人", "提出者"),
    _column("reported_at", "反饋時間", "反馈时间", "Time reported", 18,
            "反饋日期", "反馈日期", "提出時間", "提出时间", "提出日期", "Reported at", "Date reported"),
    _column("owner", "跟進人", "跟进人", "Owner", 12, "負責人", "负责人", "Follow-up"),
    _column("status", "狀態", "状态", "Status", 12, "State"),
    _column("remarks", "說明", "说明", "Remarks", 40, "備註", "备注", "Notes"),
    # ... then what Cocreate adds.
    _column("customer", "客戶", "客户", "Customer", 16, "客戶名稱", "客户名称", "Company"),
    _column("stage", "階段", "阶段", "Stage", 12),
    _column("reporter_email", "反饋人電子郵件", "反馈人邮箱", "Reporter e-mail", 24, "E-mail", "Email", "反饋人郵箱"),
    _column("reporter_channel", "反饋管道", "反馈渠道", "Reporter channel", 14, "Channel", "反饋渠道"),
    _column("linked_to", "關聯到", "关联到", "Linked to", 16),
    # A sheet without it gives each need a title taken from its description (sheets.derive_title).
    _column("title", "標題", "标题", "Title", 30, "需求標題", "需求标题", "主題", "主题", "Summary", "Subject"),
    _column("issue", "研發工單", "研发工单", "Tracker issue", 16, importable=False),
    _column("issue_url", "工單連結", "工单链接", "Tracker link", 40, importable=False),
    # Import only: the co-creation project's key or name (``cocreate import --project`` for rows naming none).
    _column("project", "專案", "项目", "Project", 16, "項目", "专案", "项目名称", "專案名稱", exported=False),
)
COLUMN = {column.key: column for column in COLUMNS}
EXPORTED = tuple(column for column in COLUMNS if column.exported)
"""The columns an export writes, in order."""
FIELD_KEYS = tuple(COLUMN)
"""The column keys ``table.aliases`` in the config may name."""


# Fill and font of the urgency cell, by position in the config (0 = most urgent), as on the /needs page.
URGENCY_COLOURS = (("FEF3F2", "B42318"), ("FFF6ED", "C4320A"), ("FEFBE8", "8A6100"), ("F2F4F7", "475467"))


class TableError(ValueError):
    """The file cannot be imported at all (not a table, no header row, ...); ``problems`` says why, and
    ``language`` is the sheet's when its header row was read (its problems are told in it), else None."""

    def __init__(self, problems: list[Problem], language: str | None = None):
        self.problems = problems
        self.language = language
        super().__init__("; ".join(problem.render() for problem in problems))


# Problems -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem of one row and column (``row`` None: the whole file), with an untranslated message.

    ``row`` is the sheet's own row number (as Excel shows it); ``letter`` the column's letter in the sheet
    (None when the sheet lacks the column); ``column`` its header as written in the sheet.
    """

    row: int | None
    column: str | None
    letter: str | None
    message: str
    params: dict = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] = lambda text: text) -> str:
        """The message alone, translated."""
        return translate(self.message) % self.params if self.params else translate(self.message)

    def render(self, translate: Callable[[str], str] = lambda text: text) -> str:
        """``row 5, 緊急程度 (E): Unknown urgency 超急.``"""
        text = self.text(translate)
        where = []
        if self.row is not None:
            where.append(translate(N_("row %(row)d")) % {"row": self.row})
        if self.column:
            where.append(f"{self.column} ({self.letter})" if self.letter else self.column)
        return f"{', '.join(where)}: {text}" if where else text


PROBLEMS_SHOWN = 100
"""At most this many problems (and as many notes, and the changes of as many rows) are kept in a report; the rest
are only counted."""


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): the first ``PROBLEMS_SHOWN`` problems and notes, the field
    changes (``changes.FieldChange``) of the first ``PROBLEMS_SHOWN`` rows it updates, and how many more there were
    (``problems_left_off``, ``warnings_left_off``, ``changes_left_off`` rows)."""

    dry_run: bool
    filename: str
    language: str = "en"
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused_rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    synced_refs: list[str] = field(default_factory=list)
    sync_jobs: int = 0
    problems_left_off: int = 0
    warnings_left_off: int = 0
    changes: list = field(default_factory=list)
    changes_left_off: int = 0

    def add_problems(self, problems: list[Problem]) -> None:
        room = max(PROBLEMS_SHOWN - len(self.problems), 0)
        self.problems.extend(problems[:room])
        self.problems_left_off += max(len(problems) - room, 0)

    def add_warning(self, warning: Problem) -> None:
        if len(self.warnings) < PROBLEMS_SHOWN:
            self.warnings.append(warning)
        else:
            self.warnings_left_off += 1

    def add_changes(self, changes: list) -> None:
        """The changes of one updated row."""
        if len({change.ref for change in self.changes}) < PROBLEMS_SHOWN:
            self.changes.extend(changes)
        else:
            self.changes_left_off += 1

    @property
    def refused(self) -> int:
        return len(self.refused_rows)

    @property
    def ok(self) -> bool:
        return not self.problems


