"""The report's plots: matplotlib figures rendered in memory to static SVG strings.

Text stays text (``svg.fonttype: none``) and names a list of fonts, CJK ones first, so the
browser draws Chinese with a system font and nothing is embedded or fetched. Every series
differs by hatching or marker as well as by grey level, and bars carry their values, so a
plot reads printed in black and white. Each function returns one ``<svg>`` element.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("svg")  # no GUI back end, ever

from matplotlib.figure import Figure

#: Fonts named in the SVG text, in order: CJK fonts first, then a plain sans serif.
FONTS = [
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "WenQuanYi Zen Hei",
    "DejaVu Sans",
]
HATCHES = ("", "//", "xx", "\\\\", "--", "++", "||", "..")
GREYS = ("#f2f2f2", "#c8c8c8", "#9a9a9a", "#6a6a6a", "#3c3c3c", "#dddddd", "#b0b0b0", "#808080")
SEVERITY_HATCH = {"high": "xx", "medium": "//", "low": ""}
SEVERITY_GREY = {"high": "#5a5a5a", "medium": "#a0a0a0", "low": "#e6e6e6"}


@contextmanager
def _style(key: str) -> Iterator[None]:
    with (
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": key,  # ids (clip paths, hatches) unique to each plot
                "font.family": "sans-serif",
                "font.sans-serif": FONTS,
                "font.size": 10,
                "hatch.linewidth": 0.8,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "axes.edgecolor": "#333333",
            }
        ),
        warnings.catch_warnings(),
    ):
        # Where no CJK font is installed matplotlib measures with DejaVu Sans and says so;
        # the browser still picks its own font for the text.
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("ignore", message=".*findfont.*")
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        yield


def _svg(fig: Figure, key: str, title: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", text, count=1)
    label = title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return text.replace(
        "<svg ",
        f'<svg class="plot" id="plot-{key}" role="img" aria-label="{label}" ',
        1,
    )


def empty(key: str, title: str) -> str:
    """A plot of nothing (no account, no run): its title and a dash, same size as the rest."""
    with _style(key):
        fig, ax = _figure(6.4, 1.6)
        ax.text(0.5, 0.5, "—", ha="center", va="center", fontsize=14, transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title, loc="left")
        return _svg(fig, key, title)


def _figure(width: float = 6.4, height: float = 3.2) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def bars(
    key: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    value_labels: Sequence[str],
    *,
    horizontal: bool = False,
    hatches: Sequence[str] | None = None,
    greys: Sequence[str] | None = None,
    ylabel: str = "",
) -> str:
    """One series of bars, each with its value written on it."""
    if not labels:
        return empty(key, title)
    with _style(key):
        height = max(2.4, 0.32 * len(labels) + 0.8) if horizontal else 3.0
        fig, ax = _figure(6.4, height)
        hatches = hatches or [HATCHES[i % len(HATCHES)] for i in range(len(labels))]
        greys = greys or [GREYS[i % len(GREYS)] for i in range(len(labels))]
        draw = ax.barh if horizontal else ax.bar
        positions = list(range(len(labels)))
        drawn = draw(
            positions, values, color=greys, edgecolor="black", hatch=hatches, linewidth=0.8
        )
        if horizontal:
            ax.set_yticks(positions, labels)
            ax.invert_yaxis()
            ax.set_xlabel(ylabel)
        else:
            ax.set_xticks(positions, labels)
            ax.set_ylabel(ylabel)
        ax.bar_label(drawn, labels=list(value_labels), padding=2, fontsize=9)
        ax.margins(x=0.12 if horizontal else 0.05, y=0.05 if horizontal else 0.15)
        ax.set_title(title, loc="left")
        return _svg(fig, key, title)


def grouped_bars(
    key: str,
    title: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    value_format: str = "{:.0f}",
    ylabel: str = "",
) -> str:
    """Bars per group, one series each (hatched differently), with a legend and values."""
    if not groups or not series:
        return empty(key, title)
    with _style(key):
        fig, ax = _figure(6.4, 3.2)
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series):
            positions = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
            drawn = ax.bar(
                positions,
                values,
                width,
                label=name,
                color=GREYS[i % len(GREYS)],
                hatch=HATCHES[(i + 1) % len(HATCHES)],
                edgecolor="black",
                linewidth=0.8,
            )
            ax.bar_label(
                drawn, labels=[value_format.format(v) for v in values], padding=1, fontsize=7
            )
        ax.set_xticks(list(range(len(groups))), groups)
        ax.set_ylabel(ylabel)
        ax.margins(y=0.15)
        if series:
            ax.legend(frameon=False, fontsize=8)
        ax.set_title(title, loc="left")
        return _svg(fig, key, title)


def matrix(
    key: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[int]],
    row_title: str,
    column_title: str,
) -> str:
    """A grey heat map with the count written in every cell."""
    if not rows or not columns:
        return empty(key, title)
    with _style(key):
        fig, ax = _figure(4.8, 0.45 * len(rows) + 1.6)
        peak = max((v for row in cells for v in row), default=0) or 1
        ax.imshow(
            [[v / peak for v in row] for row in cells],
            cmap="Greys",
            vmin=0,
            vmax=1.25,
            aspect="auto",
        )
        for i, row in enumerate(cells):
            for j, v in enumerate(row):
                dark = v / peak > 0.6
                ax.text(
                    j,
                    i,
                    f"{v:,}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if dark else "black",
                    fontweight="bold" if i < len(columns) and rows[i] == columns[j] else "normal",
                )
        ax.set_xticks(list(range(len(columns))), columns)
        ax.set_yticks(list(range(len(rows))), rows)
        ax.set_xlabel(column_title)
        ax.set_ylabel(row_title)
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_title(title, loc="left", pad=28)
        return _svg(fig, key, title)


def lines(
    key: str,
    title: str,
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    ylabel: str = "",
) -> str:
    """Series over the runs, told apart by marker and line style, labelled at their end."""
    markers, styles = ("o", "s", "^", "D"), ("-", "--", ":", "-.")
    if not xs:
        return empty(key, title)
    with _style(key):
        fig, ax = _figure(6.4, 3.0)
        positions = list(range(len(xs)))
        for i, (name, values) in enumerate(series):
            ax.plot(
                positions,
                values,
                marker=markers[i % 4],
                linestyle=styles[i % 4],
                color="black",
                markerfacecolor="white" if i % 2 else "black",
                label=name,
                linewidth=1,
                markersize=4,
            )
        step = max(1, len(xs) // 12)
        ax.set_xticks(positions[::step], list(xs)[::step])
        ax.set_ylabel(ylabel)
        if series:
            ax.legend(frameon=False, fontsize=8)
        ax.set_title(title, loc="left")
        return _svg(fig, key, title)
