"""The VOC report in one language: SVG charts, the HTML fragment and document, the CLI's summary lines."""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import unicodedata
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from plugin.catalogs import catalog
from plugin.customer import CustomerBook
from plugin.settings import Settings
from sync.notify.templates import format_duration
from sync.report.figures import VocReport
from sync.report.projects import ProjectWords

# Urgency colours as on the /needs page (most urgent first); other bars in the brand colour.
BAR_COLOURS = ("#d92d20", "#f79009", "#eaaa08", "#98a2b3")
BRAND = "#1f4e8c"
LIGHT = "#84adff"
FONT = ('system-ui, -apple-system, "Segoe UI", "PingFang SC", "PingFang TC", "Microsoft YaHei", '
        '"Noto Sans CJK SC", "Noto Sans CJK TC", "WenQuanYi Micro Hei", sans-serif')

_TEMPLATES = Environment(loader=PackageLoader("sync.report"), autoescape=select_autoescape(("html",)),
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

REPORT_CSS = Markup(_TEMPLATES.get_template("report.css").render())
"""Styles of the report on top of the app's stylesheet; also embedded in the saved HTML document."""


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


def text_width(text: str, font_size: float) -> float:
    """How wide ``text`` is drawn, at most: a Chinese character takes a full em, anything else about 0.62 em
    (the widest Latin digits and letters of the usual sans-serif fonts)."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.62 for char in text) * font_size


def share_gauge(share: float | None, caption: str, *, size: int = 180) -> str:
    """A ring filled to ``share`` with the percentage in the middle and ``caption`` under it; the drawing is at
    least as wide as the caption, so that no language's caption is cut at its edges."""
    width = max(size + 160, math.ceil(text_width(caption, 12)) + 24)
    radius, stroke, centre, middle = size / 2 - 14, 18, size / 2, width / 2
    circumference = 2 * math.pi * radius
    ring = (f'cx="{middle}" cy="{centre}" r="{radius}" fill="none" stroke-width="{stroke}"')
    return _svg(width, size + 24, 12, [
        f'<circle {ring} stroke="#e4e7ec"/>',
        f'<circle {ring} stroke="#067647" stroke-dasharray="{circumference * (share or 0):.2f} {circumference:.2f}" '
        f'transform="rotate(-90 {middle} {centre})"/>',
        f'<text x="{middle}" y="{centre + 9}" text-anchor="middle" font-size="28" font-weight="700" '
        f'fill="#1c2430">{_e(_percent(share))}</text>',
        f'<text x="{middle}" y="{size + 16}" text-anchor="middle" fill="#5d6b7c">{_e(caption)}</text>',
    ])


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def _hours(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


class _Names:
    """Config keys -> names in one language (customers by their record's name)."""

    def __init__(self, settings: Settings, locale: str, customers: CustomerBook):
        self.settings, self.locale, self.customers = settings, locale, customers

    def of(self, kind: str, key: str) -> str:
        if kind == "customer":
            return self.customers.name(key)
        item = getattr(self.settings, kind)(key)
        return key if item is None else item.name.get(self.locale)




def _context(report: VocReport, settings: Settings, locale: str, customers: CustomerBook) -> dict:
    """What the templates show: the figures, charts and tables in ``locale``'s words."""
    words = catalog(locale)
    _ = words.gettext
    names = _Names(settings, locale, customers)
    zone = ZoneInfo(report.timezone)
    levels = {item.key: min(index, len(BAR_COLOURS) - 1) for index, item in enumerate(settings.urgencies)}

    def when(moment: dt.datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

    def duration(value: dt.timedelta | None) -> str:
        return "–" if value is None else format_duration(value, locale)

    delivered_share = _("Delivered (north star)")
    acceptance, resolution = _("Time to acceptance"), _("Time to resolution")
    of_all = _("%(delivered)d of %(total)d needs raised to date", delivered=report.all_delivered,
               total=report.all_needs)
    last_day = (report.end.astimezone(zone) - dt.timedelta(days=1)).date()
    figures = [
        ("needs", _("Needs raised"), report.total, None),
        ("north-star", delivered_share, _percent(report.north_star), of_all),
        ("delivered-month", _("Of this month's needs delivered"), _percent(report.delivered_share),
         _("%(delivered)d of %(total)d", delivered=report.delivered, total=report.total)),
        ("breaches", _("SLA breaches"), len(report.breaches), None),
        *_delivered_rows(report, _, duration),
    ]
    charts = [
        ("chart-north-star", delivered_share, share_gauge(report.north_star, of_all)),
        ("chart-category", _("Needs by product category"),
         bar_chart([(names.of("category", key), count, BRAND) for key, count in report.by_category])),
        ("chart-urgency", _("Needs by urgency"),
         bar_chart([(names.of("urgency", key), count, BAR_COLOURS[levels.get(key, -1)])
                    for key, count in report.by_urgency])),
        ("chart-status", _("Needs by status"),
         bar_chart([(names.of("status", key), count, BRAND) for key, count in report.by_status])),
    ]
    for chart_id, what, rows in (("chart-acceptance", acceptance, report.to_acceptance),
                                 ("chart-resolution", resolution, report.to_resolution)):
        charts.append((chart_id, _("%(what)s by urgency (median and 90th percentile, hours)", what=what),
                       paired_bar_chart([(names.of("urgency", key), _hours(stats.median), _hours(stats.p90))
                                         for key, stats in rows], (_("Median"), _("90th percentile")))))
    return {
        "report": report, "_": _, "pgettext": words.pgettext, "names": names, "when": when, "duration": duration,
        "lang": locale.replace("_", "-"), "font": FONT, "project_words": ProjectWords(words, locale),
        "customer_names": lambda keys: ", ".join(names.of("customer", key) for key in keys),
        "period": _("Needs raised %(start)s – %(end)s (%(zone)s); status as of %(cutoff)s.",
                    start=report.start.astimezone(zone).date(), end=last_day, zone=report.timezone,
                    cutoff=when(report.cutoff)),
        "figures": figures,
        "charts": [(chart_id, title, svg_image(svg, title)) for chart_id, title, svg in charts],
        "durations": [("acceptance", acceptance, report.to_acceptance),
                      ("resolution", resolution, report.to_resolution)],
    }


def _delivered_rows(report: VocReport, _, duration) -> list[tuple[str, str, str, str | None]]:
    """The north star weighted by revenue and the time to shipped (``sync.report.shipped``)."""
    figures = report.delivered_figures
    if figures is None:
        return []
    return [
        ("north-star-revenue", _("Delivered, weighted by revenue"), _percent(figures.weighted_share),
         _("%(delivered)s of %(total)s annual revenue", delivered=f"{figures.delivered_revenue:,}",
           total=f"{figures.revenue:,}")),
        ("to-shipped", _("Median time from report to shipped"), duration(figures.median_to_shipped),
         _("needs shipped: %(num)d", num=figures.shipped)),
    ]


def render_report(report: VocReport, settings: Settings, locale: str,
                  customers: CustomerBook = CustomerBook()) -> Markup:
    """The report as an HTML fragment (a <div class="voc">): figures, charts as images, tables; every value
    escaped."""
    return Markup(_TEMPLATES.get_template("voc.html").render(_context(report, settings, locale, customers)))


def render_document(report: VocReport, settings: Settings, locale: str,
                    customers: CustomerBook = CustomerBook()) -> str:
    """The report as a standalone HTML document (charts embedded), ready to save, mail or print to PDF."""
    return _TEMPLATES.get_template("document.html").render(_context(report, settings, locale, customers))


def summary_lines(report: VocReport, settings: Settings, locale: str,
                  customers: CustomerBook = CustomerBook()) -> list[str]:
    """The headline figures as plain text lines (for the CLI)."""
    _ = catalog(locale).gettext
    names = _Names(settings, locale, customers)
    of_all = _("%(delivered)d of %(total)d needs raised to date", delivered=report.all_delivered,
               total=report.all_needs)
    headline = [(_("Needs raised"), report.total),
                (_("Delivered (north star)"), f"{_percent(report.north_star)} ({of_all})"),
                (_("Of this month's needs delivered"), _percent(report.delivered_share)),
                (_("SLA breaches"), len(report.breaches))]
    headline += [(label, f"{value} ({note})") for _name, label, value, note in _delivered_rows(
        report, _, lambda value: "–" if value is None else format_duration(value, locale))]
    lines = [_("Voice of the customer, %(month)s", month=report.month)]
    lines += [f"{label}: {value}" for label, value in headline]
    for label, kind, rows in ((_("Needs by product category"), "category", report.by_category),
                              (_("Needs by urgency"), "urgency", report.by_urgency),
                              (_("Needs by status"), "status", report.by_status)):
        lines.append(f"{label}: " + ", ".join(f"{names.of(kind, key)} {count}" for key, count in rows))
    median, p90 = _("Median"), _("90th percentile")
    for label, rows in ((_("Time to acceptance"), report.to_acceptance),
                        (_("Time to resolution"), report.to_resolution)):
        parts = [f"{names.of('urgency', key)} {_hours(stats.median) if stats.count else '–'}h/"
                 f"{_hours(stats.p90) if stats.count else '–'}h (n={stats.count})" for key, stats in rows]
        lines.append(f"{label} ({median}/{p90}): " + ", ".join(parts))
    if report.projects:
        project_words = ProjectWords(catalog(locale), locale)
        lines.append(_("Co-creation projects") + ":")
        lines += ["  " + project_words.line(item, names.of("customer", item.customer)) for item in report.projects]
    return lines
