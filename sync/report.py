"""The monthly voice-of-customer (VOC) report: figures computed from the store, rendered as HTML with SVG charts.

Which needs count, and as of when:

- The month's needs are those the customer raised in the month (``reported_at`` in the month, in the
  report's time zone). Their status is the one they had at the cut-off: the end of the month, or now
  for the month in progress (from the status history).
- Time to acceptance: from ``reported_at`` to the need's first move out of the initial status; time to
  resolution: to a closed status (done or declined) it is still in at the cut-off. Needs still waiting, and
  moves set by a table import (whose time is unknown), are not timed. Median and 90th percentile, the
  percentile by linear interpolation between closest ranks (``statistics.quantiles(method="inclusive")``,
  numpy's default).
- SLA breaches: every timer (see ``sync.sla``) due within the month that was late or still running at the
  cut-off, whatever month the need was raised in.
- Most-requested issues: tracker issues ranked by how many distinct customers asked for them (every need
  raised up to the cut-off), then by needs.
- Delivered share (the north-star figure): needs raised up to the cut-off that were delivered (done) at the
  cut-off, over all of them; the same share is also given for the month's needs alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from plugin.settings import Settings
from sync.ledger.store import Need, utcnow
from sync.notify.templates import format_duration
from sync.sla import delivered_statuses, history_until, resolved, responded, timers

TOP_ISSUES = 10


@dataclass(frozen=True)
class Durations:
    """How long something took over ``count`` needs: median and 90th percentile (None when count is 0)."""

    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None


@dataclass(frozen=True)
class Breach:
    ref: str
    title: str
    urgency: str
    sla: str
    due_at: dt.datetime
    late_by: dt.timedelta
    still_open: bool


@dataclass(frozen=True)
class IssueDemand:
    issue_key: str
    issue_url: str | None
    title: str
    customers: tuple[str, ...]
    needs: int
    new_in_month: int


@dataclass(frozen=True)
class VocReport:
    """The figures of one month; every count list is ``(key, count)`` in the config's order."""

    month: str
    timezone: str
    start: dt.datetime
    end: dt.datetime
    cutoff: dt.datetime
    total: int
    by_category: tuple[tuple[str, int], ...]
    by_urgency: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    to_acceptance: tuple[tuple[str, Durations], ...]
    to_resolution: tuple[tuple[str, Durations], ...]
    breaches: tuple[Breach, ...]
    top_issues: tuple[IssueDemand, ...]
    delivered: int
    all_needs: int
    all_delivered: int

    @property
    def delivered_share(self) -> float | None:
        """Share of the month's needs delivered at the cut-off."""
        return self.delivered / self.total if self.total else None

    @property
    def north_star(self) -> float | None:
        """Share of every need raised up to the cut-off that was delivered at the cut-off."""
        return self.all_delivered / self.all_needs if self.all_needs else None

    def breach_count(self, urgency: str, sla: str) -> int:
        return sum(1 for breach in self.breaches if breach.urgency == urgency and breach.sla == sla)


def month_bounds(month: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """``2026-11`` -> the month's first instant and the next month's, in UTC; ValueError if malformed."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = dt.date(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"{month!r} is not a month such as 2026-11") from exc
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    zone = ZoneInfo(timezone)

    def instant(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)

    return instant(first), instant(following)


def durations(values: list[dt.timedelta]) -> Durations:
    """Median and 90th percentile (linear interpolation between closest ranks) of ``values``."""
    if not values:
        return Durations(0, None, None)
    seconds = sorted(value.total_seconds() for value in values)
    p90 = seconds[0] if len(seconds) == 1 else statistics.quantiles(seconds, n=10, method="inclusive")[8]
    return Durations(len(seconds), dt.timedelta(seconds=statistics.median(seconds)), dt.timedelta(seconds=p90))


def _in_order(counts: Counter, keys: list[str]) -> tuple[tuple[str, int], ...]:
    """Every configured key (zero included) in the config's order, then any other key found."""
    rest = sorted(key for key in counts if key not in keys)
    return tuple((key, counts.get(key, 0)) for key in [*keys, *rest])


def voc_report(runtime, month: str, *, timezone: str = "UTC", now: dt.datetime | None = None) -> VocReport:
    """Compute the VOC figures of ``month`` (``YYYY-MM``) from the store."""
    start, end = month_bounds(month, timezone)
    cutoff = min(end, now or utcnow())
    with runtime.Session() as session:
        needs = session.scalars(select(Need).where(Need.reported_at < cutoff)
                                .options(selectinload(Need.history)).order_by(Need.id)).all()
        return build_report(runtime.settings, needs, month, timezone, start, end, cutoff)


def build_report(settings: Settings, needs: list[Need], month: str, timezone: str, start: dt.datetime,
                 end: dt.datetime, cutoff: dt.datetime) -> VocReport:
    """The figures over ``needs`` (each with its history loaded), all raised before ``cutoff``."""
    delivered_keys = delivered_statuses(settings)
    urgency_keys = [item.key for item in settings.urgencies]
    categories: Counter = Counter()
    urgencies: Counter = Counter()
    statuses: Counter = Counter()
    accepted: dict[str, list[dt.timedelta]] = {}
    closed: dict[str, list[dt.timedelta]] = {}
    breaches: list[Breach] = []
    issues: dict[str, dict] = {}
    total = delivered = all_delivered = 0
    for need in needs:
        history = history_until(need.history, cutoff)
        stops = responded(settings, history), resolved(settings, history)
        status = history[-1].status if history else need.status
        in_month = start <= need.reported_at < end
        if status in delivered_keys:
            all_delivered += 1
        if in_month:
            total += 1
            delivered += status in delivered_keys
            categories[need.category] += 1
            urgencies[need.urgency] += 1
            statuses[status] += 1
            for (stopped, at), bucket in zip(stops, (accepted, closed), strict=True):
                if stopped and at is not None:
                    bucket.setdefault(need.urgency, []).append(at - need.reported_at)
        for timer in timers(settings, need, stops=stops):
            if start <= timer.due_at < cutoff and timer.breached(cutoff):
                breaches.append(Breach(need.ref, need.title, need.urgency, timer.sla, timer.due_at,
                                       timer.late_by(cutoff), timer.state(cutoff) == "overdue"))
        if need.issue_key:
            issue = issues.setdefault(need.issue_key, {"url": need.issue_url, "title": need.title,
                                                       "customers": {}, "needs": 0, "new": 0})
            issue["customers"].setdefault(need.customer, None)
            issue["needs"] += 1
            issue["new"] += in_month
            issue["url"] = issue["url"] or need.issue_url
    ranked = sorted(issues.items(), key=lambda item: (-len(item[1]["customers"]), -item[1]["needs"], item[0]))
    urgency_order = [*urgency_keys, *sorted((set(accepted) | set(closed)) - set(urgency_keys))]
    return VocReport(
        month=month, timezone=timezone, start=start, end=end, cutoff=cutoff, total=total,
        by_category=_in_order(categories, [item.key for item in settings.categories]),
        by_urgency=_in_order(urgencies, urgency_keys),
        by_status=_in_order(statuses, [item.key for item in settings.statuses]),
        to_acceptance=tuple((key, durations(accepted.get(key, []))) for key in urgency_order),
        to_resolution=tuple((key, durations(closed.get(key, []))) for key in urgency_order),
        breaches=tuple(sorted(breaches, key=lambda breach: (breach.due_at, breach.ref, breach.sla))),
        top_issues=tuple(
            IssueDemand(key, value["url"], value["title"], tuple(value["customers"]), value["needs"], value["new"])
            for key, value in ranked[:TOP_ISSUES]),
        delivered=delivered, all_needs=len(needs), all_delivered=all_delivered,
    )


# Rendering --------------------------------------------------------------------------------------------

TEXTS = {
    "en": {
        "title": "Voice of the customer, {month}",
        "period": "Needs raised {start} – {end} ({zone}); status as of {cutoff}.",
        "needs": "Needs raised",
        "delivered_share": "Delivered (north star)",
        "delivered_month": "Of this month's needs delivered",
        "breaches": "SLA breaches",
        "by_category": "Needs by product category",
        "by_urgency": "Needs by urgency",
        "by_status": "Needs by status",
        "to_acceptance": "Time to acceptance",
        "to_resolution": "Time to resolution",
        "chart_durations": "{what} by urgency (median and 90th percentile, hours)",
        "urgency": "Urgency",
        "timed": "Needs timed",
        "median": "Median",
        "p90": "90th percentile",
        "ref": "Ref",
        "need": "Need",
        "sla": "SLA",
        "due": "Due",
        "late": "Late by",
        "state": "State",
        "still_open": "still open",
        "closed_late": "closed late",
        "first_response": "First response",
        "resolution": "Resolution",
        "top_issues": "Issues requested by the most customers",
        "issue": "Issue",
        "customers": "Customers",
        "needs_col": "Needs",
        "new_in_month": "New this month",
        "none": "None.",
        "of_all": "{delivered} of {total} needs raised to date",
        "of_month": "{delivered} of {total}",
    },
    "zh_Hans": {
        "title": "客户之声月报（{month}）",
        "period": "统计 {start} 至 {end}（{zone}）提出的需求；状态截至 {cutoff}。",
        "needs": "提出的需求",
        "delivered_share": "已交付占比（北极星指标）",
        "delivered_month": "本月需求已交付",
        "breaches": "SLA 超时",
        "by_category": "按产品类别",
        "by_urgency": "按紧急程度",
        "by_status": "按状态",
        "to_acceptance": "受理用时",
        "to_resolution": "解决用时",
        "chart_durations": "各紧急程度的{what}（中位数与 90 分位，小时）",
        "urgency": "紧急程度",
        "timed": "计时需求数",
        "median": "中位数",
        "p90": "90 分位",
        "ref": "序号",
        "need": "需求",
        "sla": "SLA",
        "due": "时限",
        "late": "超出",
        "state": "状态",
        "still_open": "仍未完成",
        "closed_late": "已逾期完成",
        "first_response": "首次响应",
        "resolution": "解决",
        "top_issues": "最多客户提出的工单",
        "issue": "工单",
        "customers": "客户数",
        "needs_col": "需求数",
        "new_in_month": "本月新增",
        "none": "无。",
        "of_all": "至今提出的 {total} 个需求中已交付 {delivered} 个",
        "of_month": "{total} 个中 {delivered} 个",
    },
    "zh_Hant": {
        "title": "客戶之聲月報（{month}）",
        "period": "統計 {start} 至 {end}（{zone}）提出的需求；狀態截至 {cutoff}。",
        "needs": "提出的需求",
        "delivered_share": "已交付占比（北極星指標）",
        "delivered_month": "本月需求已交付",
        "breaches": "SLA 逾時",
        "by_category": "按產品類別",
        "by_urgency": "按緊急程度",
        "by_status": "按狀態",
        "to_acceptance": "受理用時",
        "to_resolution": "解決用時",
        "chart_durations": "各緊急程度的{what}（中位數與 90 百分位，小時）",
        "urgency": "緊急程度",
        "timed": "計時需求數",
        "median": "中位數",
        "p90": "90 百分位",
        "ref": "序號",
        "need": "需求",
        "sla": "SLA",
        "due": "時限",
        "late": "超出",
        "state": "狀態",
        "still_open": "仍未完成",
        "closed_late": "已逾期完成",
        "first_response": "首次回應",
        "resolution": "解決",
        "top_issues": "最多客戶提出的工單",
        "issue": "工單",
        "customers": "客戶數",
        "needs_col": "需求數",
        "new_in_month": "本月新增",
        "none": "無。",
        "of_all": "至今提出的 {total} 個需求中已交付 {delivered} 個",
        "of_month": "{total} 個中 {delivered} 個",
    },
}

# Urgency colours as on the /needs page (most urgent first); other bars in the brand colour.
BAR_COLOURS = ("#d92d20", "#f79009", "#eaaa08", "#98a2b3")
BRAND = "#1f4e8c"
LIGHT = "#84adff"
FONT = ('system-ui, -apple-system, "Segoe UI", "PingFang SC", "PingFang TC", "Microsoft YaHei", '
        '"Noto Sans CJK SC", "Noto Sans CJK TC", "WenQuanYi Micro Hei", sans-serif')


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg(width: float, height: float, font_size: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{_e(FONT)}" font-size="{font_size}">'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>{"".join(body)}</svg>')


def svg_image(svg: str, alt: str) -> Markup:
    """An SVG document as an <img> (a data: URL), so the chart is an image in the page and in saved reports."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup(f'<img class="chart" src="data:image/svg+xml;base64,{data}" alt="{_e(alt)}">')


def bar_chart(rows: list[tuple[str, float, str]], *, width: int = 520) -> str:
    """Horizontal bars: one ``(label, value, colour)`` per row; returns an SVG document."""
    label_width, bar_height, gap, top = 150, 22, 10, 10
    height = top * 2 + max(len(rows), 1) * (bar_height + gap)
    largest = max((value for _label, value, _colour in rows), default=0) or 1
    span = width - label_width - 70
    body = []
    for index, (label, value, colour) in enumerate(rows):
        y = top + index * (bar_height + gap)
        length = max(value / largest * span, 1 if value else 0)
        body.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" fill="#1c2430">{_e(label)}</text>'
                    f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" rx="3" '
                    f'fill="{colour}"/>'
                    f'<text x="{label_width + length + 6:.1f}" y="{y + 16}" fill="#3a4656">{value:g}</text>')
    return _svg(width, height, 13, body)


def paired_bar_chart(rows: list[tuple[str, float | None, float | None]], legend: tuple[str, str],
                     *, width: int = 520) -> str:
    """Two bars per row (median, 90th percentile); None draws no bar and prints a dash."""
    label_width, bar_height, pair_gap, top = 150, 14, 14, 34
    height = top + max(len(rows), 1) * (bar_height * 2 + pair_gap) + 6
    largest = max((value for _label, *values in rows for value in values if value), default=0) or 1
    span = width - label_width - 70
    body = []
    for index, (name, colour) in enumerate(zip(legend, (BRAND, LIGHT))):
        x = label_width + index * 150
        body.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>'
                    f'<text x="{x + 18}" y="18" fill="#3a4656">{_e(name)}</text>')
    for index, (label, *values) in enumerate(rows):
        y = top + index * (bar_height * 2 + pair_gap)
        body.append(f'<text x="{label_width - 8}" y="{y + bar_height + 4}" text-anchor="end" '
                    f'fill="#1c2430" font-size="13">{_e(label)}</text>')
        for offset, (value, colour) in enumerate(zip(values, (BRAND, LIGHT))):
            bar_y = y + offset * bar_height
            length = (value / largest * span) if value else 0
            shown = f"{value:.1f}" if value is not None else "–"
            body.append(f'<rect x="{label_width}" y="{bar_y}" width="{length:.1f}" height="{bar_height - 2}" '
                        f'fill="{colour}"/>'
                        f'<text x="{label_width + length + 6:.1f}" y="{bar_y + 11}" fill="#3a4656">{shown}</text>')
    return _svg(width, height, 12, body)


def share_gauge(share: float | None, caption: str, *, size: int = 180) -> str:
    """A ring filled to ``share`` with the percentage in the middle."""
    radius, stroke, centre = size / 2 - 14, 18, size / 2
    circumference = 2 * math.pi * radius
    ring = (f'cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke-width="{stroke}"')
    return _svg(size, size + 24, 12, [
        f'<circle {ring} stroke="#e4e7ec"/>',
        f'<circle {ring} stroke="#067647" stroke-dasharray="{circumference * (share or 0):.2f} {circumference:.2f}" '
        f'transform="rotate(-90 {centre} {centre})"/>',
        f'<text x="{centre}" y="{centre + 9}" text-anchor="middle" font-size="28" font-weight="700" '
        f'fill="#1c2430">{_e(_percent(share))}</text>',
        f'<text x="{centre}" y="{size + 16}" text-anchor="middle" fill="#5d6b7c">{_e(caption)}</text>',
    ])


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def _hours(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


class _Names:
    """Config keys -> names in one language (customers by their configured name)."""

    def __init__(self, settings: Settings, locale: str):
        self.settings, self.locale = settings, locale

    def of(self, kind: str, key: str) -> str:
        item = getattr(self.settings, kind)(key)
        if item is None:
            return key
        return item.name if kind == "customer" else item.name.get(self.locale)


_REPORT = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""\
<div class="voc" lang="{{ lang }}">
<h1>{{ t.title.format(month=report.month) }}</h1>
<p class="muted period">{{ period }}</p>
<div class="voc-figures">
{% for name, label, value, note in figures %}
  <div class="figure figure-{{ name }}"><span class="label">{{ label }}</span><span class="value">{{ value }}</span>
  {%- if note %}<span class="note">{{ note }}</span>{% endif %}</div>
{% endfor %}
</div>
<div class="voc-charts">
{% for id, title, image in charts %}
  <figure class="card chart-card" id="{{ id }}"><figcaption>{{ title }}</figcaption>{{ image }}</figure>
{% endfor %}
</div>
{% for section, title, rows in durations %}
<section class="card voc-{{ section }}"><h2>{{ title }}</h2><div class="table-wrap"><table>
<thead><tr><th scope="col">{{ t.urgency }}</th><th scope="col">{{ t.timed }}</th><th scope="col">{{ t.median }}</th>
<th scope="col">{{ t.p90 }}</th></tr></thead>
<tbody>
{% for key, stats in rows %}
<tr data-urgency="{{ key }}"><td>{{ names.of("urgency", key) }}</td><td>{{ stats.count }}</td>
<td>{{ duration(stats.median) }}</td><td>{{ duration(stats.p90) }}</td></tr>
{% endfor %}
</tbody></table></div></section>
{% endfor %}
<section class="card voc-breaches"><h2>{{ t.breaches }}</h2>
{% if report.breaches %}
<div class="table-wrap"><table>
<thead><tr><th scope="col">{{ t.ref }}</th><th scope="col">{{ t.need }}</th><th scope="col">{{ t.urgency }}</th>
<th scope="col">{{ t.sla }}</th><th scope="col">{{ t.due }}</th><th scope="col">{{ t.late }}</th>
<th scope="col">{{ t.state }}</th></tr></thead>
<tbody>
{% for breach in report.breaches %}
<tr><td class="col-ref">{{ breach.ref }}</td><td>{{ breach.title }}</td>
<td>{{ names.of("urgency", breach.urgency) }}</td><td>{{ t[breach.sla] }}</td><td>{{ when(breach.due_at) }}</td>
<td>{{ duration(breach.late_by) }}</td>
<td>{{ t.still_open if breach.still_open else t.closed_late }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p class="muted">{{ t.none }}</p>
{% endif %}
</section>
<section class="card voc-issues"><h2>{{ t.top_issues }}</h2>
{% if report.top_issues %}
<div class="table-wrap"><table>
<thead><tr><th scope="col">{{ t.issue }}</th><th scope="col">{{ t.need }}</th><th scope="col">{{ t.customers }}</th>
<th scope="col">{{ t.needs_col }}</th><th scope="col">{{ t.new_in_month }}</th></tr></thead>
<tbody>
{% for issue in report.top_issues %}
<tr><td class="col-ref">
{%- if (issue.issue_url or "").startswith(("https://", "http://")) -%}
<a href="{{ issue.issue_url }}" rel="noopener noreferrer">{{ issue.issue_key }}</a>
{%- else %}{{ issue.issue_key }}{% endif -%}
</td><td>{{ issue.title }}</td>
<td title="{{ customer_names(issue.customers) }}">{{ issue.customers|length }}</td>
<td>{{ issue.needs }}</td><td>{{ issue.new_in_month }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p class="muted">{{ t.none }}</p>
{% endif %}
</section>
</div>
""")


def render_report(report: VocReport, settings: Settings, locale: str) -> Markup:
    """The report as an HTML fragment (a <div class="voc">): figures, charts as images, tables; every value
    escaped."""
    texts = TEXTS[locale]
    names = _Names(settings, locale)
    zone = ZoneInfo(report.timezone)
    levels = {item.key: min(index, len(BAR_COLOURS) - 1) for index, item in enumerate(settings.urgencies)}

    def when(moment: dt.datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

    def duration(value: dt.timedelta | None) -> str:
        return "–" if value is None else format_duration(value, locale)

    of_all = texts["of_all"].format(delivered=report.all_delivered, total=report.all_needs)
    last_day = (report.end.astimezone(zone) - dt.timedelta(days=1)).date()
    figures = [
        ("needs", texts["needs"], report.total, None),
        ("north-star", texts["delivered_share"], _percent(report.north_star), of_all),
        ("delivered-month", texts["delivered_month"], _percent(report.delivered_share),
         texts["of_month"].format(delivered=report.delivered, total=report.total)),
        ("breaches", texts["breaches"], len(report.breaches), None),
    ]
    charts = [
        ("chart-north-star", texts["delivered_share"], share_gauge(report.north_star, of_all)),
        ("chart-category", texts["by_category"],
         bar_chart([(names.of("category", key), count, BRAND) for key, count in report.by_category])),
        ("chart-urgency", texts["by_urgency"],
         bar_chart([(names.of("urgency", key), count, BAR_COLOURS[levels.get(key, -1)])
                    for key, count in report.by_urgency])),
        ("chart-status", texts["by_status"],
         bar_chart([(names.of("status", key), count, BRAND) for key, count in report.by_status])),
    ]
    for chart_id, what, rows in (("chart-acceptance", texts["to_acceptance"], report.to_acceptance),
                                 ("chart-resolution", texts["to_resolution"], report.to_resolution)):
        charts.append((chart_id, texts["chart_durations"].format(what=what), paired_bar_chart(
            [(names.of("urgency", key), _hours(stats.median), _hours(stats.p90)) for key, stats in rows],
            (texts["median"], texts["p90"]))))
    return Markup(_REPORT.render(
        report=report, t=texts, names=names, when=when, duration=duration, lang=locale.replace("_", "-"),
        customer_names=lambda keys: ", ".join(names.of("customer", key) for key in keys),
        period=texts["period"].format(start=report.start.astimezone(zone).date(), end=last_day,
                                      zone=report.timezone, cutoff=when(report.cutoff)),
        figures=figures, charts=[(chart_id, title, svg_image(svg, title)) for chart_id, title, svg in charts],
        durations=[("acceptance", texts["to_acceptance"], report.to_acceptance),
                   ("resolution", texts["to_resolution"], report.to_resolution)],
    ))


REPORT_CSS = """
.voc-figures { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 1rem; margin: 1rem 0 1.25rem; }
.voc .figure { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; padding: .9rem 1.1rem;
  display: flex; flex-direction: column; gap: .15rem; }
.voc .figure .label { color: #5d6b7c; font-size: .85rem; font-weight: 600; }
.voc .figure .value { font-size: 1.8rem; font-weight: 700; line-height: 1.2; }
.voc .figure .note { color: #5d6b7c; font-size: .8rem; }
.voc .figure-north-star .value { color: #067647; }
.voc .figure-breaches .value { color: #b42318; }
.voc-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 1rem;
  margin-bottom: 1.25rem; }
.voc .chart-card { margin: 0; }
.voc .chart-card figcaption { font-weight: 700; margin-bottom: .5rem; }
.voc img.chart { max-width: 100%; height: auto; display: block; }
.voc section.card { break-inside: avoid; }
.voc .period { margin: 0; }
@media (max-width: 760px) { .voc-figures { grid-template-columns: 1fr 1fr; } }
@media print {
  @page { size: A4; margin: 14mm; }
  body { background: #fff; }
  .topbar, .no-print, .flashes { display: none !important; }
  .voc-charts { grid-template-columns: 1fr 1fr; }
  .voc .chart-card, .voc .figure, .voc section.card { break-inside: avoid; box-shadow: none; }
  .voc img.chart { width: 100%; }
}
"""
"""Styles of the report on top of the app's stylesheet; also embedded in the saved HTML document."""

_DOCUMENT_CSS = """
body { margin: 0; font-family: %s; font-size: 14px; line-height: 1.5; color: #1c2430; background: #f4f6f9; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
.muted { color: #5d6b7c; }
.card { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; padding: 1.1rem 1.3rem;
  margin-bottom: 1.1rem; }
table { border-collapse: collapse; width: 100%%; font-size: .88rem; }
th, td { padding: .45rem .55rem; text-align: left; vertical-align: top; border-bottom: 1px solid #dde3ea; }
thead th { background: #eef2f6; font-size: .82rem; }
.col-ref { white-space: nowrap; font-family: ui-monospace, Menlo, Consolas, monospace; }
""" % FONT


def render_document(report: VocReport, settings: Settings, locale: str) -> str:
    """The report as a standalone HTML document (charts embedded), ready to save, mail or print to PDF."""
    title = TEXTS[locale]["title"].format(month=report.month)
    return (f'<!doctype html>\n<html lang="{locale.replace("_", "-")}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{_e(title)}</title>\n'
            f"<style>{_DOCUMENT_CSS}{REPORT_CSS}</style>\n</head>\n<body>\n<main>\n"
            f"{render_report(report, settings, locale)}\n</main>\n</body>\n</html>\n")


def summary_lines(report: VocReport, settings: Settings, locale: str) -> list[str]:
    """The headline figures as plain text lines (for the CLI)."""
    texts = TEXTS[locale]
    names = _Names(settings, locale)
    lines = [texts["title"].format(month=report.month),
             f'{texts["needs"]}: {report.total}',
             f'{texts["delivered_share"]}: {_percent(report.north_star)} '
             f'({texts["of_all"].format(delivered=report.all_delivered, total=report.all_needs)})',
             f'{texts["delivered_month"]}: {_percent(report.delivered_share)}',
             f'{texts["breaches"]}: {len(report.breaches)}']
    for label, kind, rows in ((texts["by_category"], "category", report.by_category),
                              (texts["by_urgency"], "urgency", report.by_urgency),
                              (texts["by_status"], "status", report.by_status)):
        lines.append(f"{label}: " + ", ".join(f"{names.of(kind, key)} {count}" for key, count in rows))
    for label, rows in ((texts["to_acceptance"], report.to_acceptance), (texts["to_resolution"], report.to_resolution)):
        parts = [f"{names.of('urgency', key)} {_hours(stats.median) if stats.count else '–'}h/"
                 f"{_hours(stats.p90) if stats.count else '–'}h (n={stats.count})" for key, stats in rows]
        lines.append(f'{label} ({texts["median"]}/{texts["p90"]}): ' + ", ".join(parts))
    return lines
