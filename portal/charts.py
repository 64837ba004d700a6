"""Server-rendered SVG charts for the portal (no JavaScript, no CDN, no chart library)."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 26


def delivery_rate_svg(days: list[dict], *, title_id: str) -> SafeString:
    """Daily delivery rate (0–100 %) as bars; days without reports have no bar.

    `days` are `portal.selectors.sending_summary()["days"]`. Each bar carries a <title>
    (shown on hover, read by screen readers); the page also has the figures as a table.
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days), 1)
    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text x="{}" y="{}" text-anchor="end">{}%</text>',
        (
            (LEFT, WIDTH - RIGHT, y, y, LEFT - 4, y + 4, pct)
            for pct in (0, 50, 100)
            for y in [round(TOP + plot_h * (1 - pct / 100), 1)]
        ),
    )
    bars = []
    labels = []
    for index, day in enumerate(days):
        x = LEFT + index * step
        if day["rate"] is not None:
            h = max(plot_h * day["rate"], 1)
            bars.append(
                format_html(
                    '<rect class="bar" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}：{}%（{} / {}）</title></rect>",
                    round(x + step * 0.15, 1),
                    round(TOP + plot_h - h, 1),
                    round(step * 0.7, 1),
                    round(h, 1),
                    day["day"].strftime("%m-%d"),
                    round(day["rate"] * 100, 1),
                    day["delivered"],
                    day["delivered"] + day["failed"],
                )
            )
        if index % 5 == 0 or index == len(days) - 1:
            labels.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                    round(x + step / 2, 1),
                    HEIGHT - 8,
                    day["day"].strftime("%m-%d"),
                )
            )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}<line class="axis" x1="{}" x2="{}" y1="{}" '
        'y2="{}"/>{}{}</svg>',
        WIDTH,
        HEIGHT,
        title_id,
        grid,
        LEFT,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h,
        SafeString("".join(bars))
        if bars
        else format_html(
            '<text x="{}" y="{}" text-anchor="middle">{}</text>',
            WIDTH // 2,
            HEIGHT // 2,
            _("近 30 天没有状态报告"),
        ),
        SafeString("".join(labels)),
    )
