"""The report as one self-contained HTML page: inline CSS, inline SVG plots, a table under
every plot, no script and nothing fetched (a Content-Security-Policy forbids it)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from html import escape

from crmqual.policy import GRADES, Policy
from crmqual.report import plots
from crmqual.report.figures import BANDS, LISTED, NEW, TOP, Report
from crmqual.texts import amount, pct, t, t_or

#: No fetch of any kind: styles and images only from the page itself.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FONT_STACK = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "WenQuanYi Zen Hei", "DejaVu Sans", sans-serif'
)
CSS = f"""
body {{ font-family: {FONT_STACK}; margin: 2em auto; max-width: 60em; padding: 0 1em;
  color: #111; line-height: 1.4; }}
h1 {{ font-size: 1.6em; margin-bottom: .2em; }}
h2 {{ border-bottom: 1px solid #999; padding-bottom: .1em; margin-top: 2em; }}
figure {{ margin: 1em 0; }}
svg.plot {{ max-width: min(100%, 46em); height: auto; display: block; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: .9em; }}
th, td {{ border: 1px solid #bbb; padding: .2em .5em; text-align: left; vertical-align: top; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
caption {{ text-align: left; font-weight: bold; padding: .3em 0; }}
.meta {{ color: #333; font-size: .9em; }}
.meta dt {{ font-weight: bold; float: left; clear: left; margin-right: .5em; }}
.meta dd {{ margin: 0 0 .2em 0; }}
ul.key {{ list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1em; }}
ul.key li {{ border: 1px solid #999; padding: .4em .8em; }}
ul.key b {{ display: block; font-size: 1.3em; }}
code {{ background: #f2f2f2; padding: 0 .2em; }}
@media print {{ h2 {{ break-after: avoid; }} figure, table {{ break-inside: avoid; }} }}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float | int | None, decimals: int = 0) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}"


class _Page:
    def __init__(self, report: Report, lang: str, policy: Policy) -> None:
        self.r, self.lang = report, lang
        self.statuses: dict[str, str] = {k: getattr(v, lang) for k, v in policy.statuses.items()}
        self.flag_labels = {f.code: getattr(f.label, lang) for f in policy.flags}
        self.parts: list[str] = []

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def money(self, value: float | None, currency: str) -> str:
        return "-" if value is None else amount(value, currency or None, self.lang)

    def add(self, *html: str) -> None:
        self.parts.extend(html)

    def table(
        self,
        key: str,
        caption: str,
        header: Sequence[str],
        rows: Iterable[Sequence[str]],
        numeric: Iterable[int] = (),
    ) -> None:
        """A table; cells are HTML already escaped; ``numeric`` columns align right."""
        right = set(numeric)

        def cls(i: int) -> str:
            return ' class="n"' if i in right else ""

        head = "".join(f'<th scope="col"{cls(i)}>{_e(h)}</th>' for i, h in enumerate(header))
        body = "".join(
            "<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
            for row in rows
        )
        self.add(
            f'<table id="table-{key}"><caption>{_e(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def figure(self, svg: str) -> None:
        self.add(f"<figure>{svg}</figure>")

    # -- sections -------------------------------------------------------------------------

    def header(self) -> None:
        m = self.r.meta
        self.add(f"<h1>{_e(self.t('report.title'))}</h1>", '<dl class="meta">')
        items = [
            (self.t("report.target"), _e(m.target)),
            ("", _e(self.t("report.as_of", run=m.run_id, at=m.run_started_at[:16]))),
        ]
        if m.since is not None:
            compared = self.t("report.compared_since", since=m.since[:10])
        elif m.previous_run_id is not None:
            at = (m.previous_at or "")[:16]
            compared = self.t("report.compared_run", run=m.previous_run_id, at=at)
        else:
            compared = self.t("report.compared_none")
        items.append(("", _e(compared)))
        versions = ", ".join(f"{_e(v)} ({n:,})" for v, n in m.policy_versions.items())
        command = ["crmqual", "report", "--state", m.state_url, "--run", str(m.run_id)]
        if m.since is not None:
            command += ["--since", m.since[:10]]
        if self.lang != "en":
            command += ["--lang", self.lang]
        items += [
            ("", _e(self.t("report.generated", at=m.generated_at[:16], who=m.generated_by))),
            (self.t("report.policy"), versions or "-"),
            (self.t("report.store"), f"<code>{_e(m.state_url)}</code>"),
            (self.t("report.reproduce"), f"<code>{_e(shlex.join(command))}</code>"),
        ]
        for term, value in items:
            if term:
                self.add(f"<dt>{_e(term)}</dt>")
            self.add(f"<dd>{value}</dd>")
        self.add("</dl>", f'<p class="meta">{_e(self.t("report.exposure_note"))}</p>')

    def summary(self) -> None:
        r = self.r
        over = sum(p.over_limit for p in r.portfolio)
        self.add(f"<h2>{_e(self.t('report.summary'))}</h2>", '<ul class="key">')
        self.add(f"<li>{_e(self.t('report.accounts'))}<b>{r.accounts:,}</b></li>")
        for currency, total in sorted(r.exposure_totals().items()):
            label = f"{self.t('report.exposure')} {currency}".strip()
            self.add(f"<li>{_e(label)}<b>{_e(self.money(total, currency))}</b></li>")
        self.add(f"<li>{_e(self.t('report.over_limit'))}<b>{over:,}</b></li>")
        c = r.changes
        self.add(f"<li>{_e(self.t('report.downgrades'))}<b>{c.downgrades:,}</b></li>")
        self.add(f"<li>{_e(self.t('report.new_severe'))}<b>{c.new_severe_accounts:,}</b></li>")
        self.add("</ul>")

    def portfolio(self) -> None:
        r = self.r
        self.add(f"<h2>{_e(self.t('report.portfolio'))}</h2>")
        counts = r.grade_counts()
        grades = [g for g in GRADES if g in counts] + sorted(set(counts) - set(GRADES))
        total = max(r.accounts, 1)
        title = self.t("report.by_grade")
        self.figure(
            plots.bars(
                "grades",
                title,
                grades,
                [counts[g] for g in grades],
                [f"{counts[g]:,}" for g in grades],
                ylabel=self.t("report.accounts"),
            )
        )
        self.table(
            "grades",
            title,
            [self.t("report.grade"), self.t("report.accounts"), self.t("report.share")],
            [(_e(g), f"{counts[g]:,}", _e(pct(counts[g] / total, self.lang))) for g in grades],
            numeric=(1, 2),
        )
        totals = r.exposure_totals()
        currencies = sorted(totals)
        by: dict[tuple[str, str], float] = {}
        for p in r.portfolio:
            by[(p.grade, p.currency)] = by.get((p.grade, p.currency), 0.0) + p.exposure
        title = self.t("report.exposure_by_grade")
        series = [
            (
                c or "-",
                [100 * by.get((g, c), 0.0) / totals[c] if totals[c] else 0.0 for g in grades],
            )
            for c in currencies
        ]
        self.figure(
            plots.grouped_bars(
                "exposure", title, grades, series, "{:.0f}%", ylabel=self.t("report.share")
            )
        )
        rows = []
        for p in r.portfolio:
            share = p.exposure / totals[p.currency] if totals.get(p.currency) else 0.0
            util = p.exposure / p.limits if p.limits else None
            rows.append(
                (
                    _e(p.grade),
                    _e(p.currency or "-"),
                    f"{p.accounts:,}",
                    _e(self.money(p.exposure, p.currency)),
                    _e(pct(share, self.lang)),
                    _e(self.money(p.limits, p.currency)),
                    "-" if util is None else _e(pct(util, self.lang)),
                    f"{p.over_limit:,}",
                    _e(self.money(p.over_limit_excess, p.currency)),
                )
            )
        self.table(
            "exposure",
            self.t("report.grade_table"),
            [
                self.t("report.grade"),
                self.t("report.currency"),
                self.t("report.accounts"),
                self.t("report.exposure"),
                self.t("report.share"),
                self.t("report.limits"),
                self.t("report.utilisation"),
                self.t("report.over_limit"),
                self.t("report.excess"),
            ],
            rows,
            numeric=range(2, 9),
        )

    def statuses_section(self) -> None:
        r = self.r
        counts: dict[str, int] = {}
        for s in r.statuses:
            counts[s.status] = counts.get(s.status, 0) + s.accounts
        order = [k for k in self.statuses if k in counts] + sorted(set(counts) - set(self.statuses))
        title = self.t("report.by_status")
        labels = [self.statuses.get(k, k or "-") for k in order]
        self.figure(
            plots.bars(
                "statuses",
                title,
                labels,
                [counts[k] for k in order],
                [f"{counts[k]:,}" for k in order],
                horizontal=True,
                ylabel=self.t("report.accounts"),
            )
        )
        rank = {k: i for i, k in enumerate(order)}
        self.table(
            "statuses",
            title,
            [
                self.t("report.status"),
                self.t("report.currency"),
                self.t("report.accounts"),
                self.t("report.exposure"),
            ],
            [
                (
                    _e(self.statuses.get(s.status, s.status or "-")),
                    _e(s.currency or "-"),
                    f"{s.accounts:,}",
                    _e(self.money(s.exposure, s.currency)),
                )
                for s in sorted(r.statuses, key=lambda s: (rank[s.status], s.currency))
            ],
            numeric=(2, 3),
        )

    def utilisation(self) -> None:
        bands = {b.band: b.accounts for b in self.r.utilisation}
        title = self.t("report.utilisation_title")
        labels = [self.t(f"report.band.{b}") for b in BANDS]
        self.figure(
            plots.bars(
                "utilisation",
                title,
                labels,
                [bands.get(b, 0) for b in BANDS],
                [f"{bands.get(b, 0):,}" for b in BANDS],
                horizontal=True,
                ylabel=self.t("report.accounts"),
            )
        )
        self.table(
            "utilisation",
            title,
            [self.t("report.band"), self.t("report.accounts")],
            [(_e(label), f"{bands.get(b, 0):,}") for label, b in zip(labels, BANDS, strict=True)],
            numeric=(1,),
        )

    def moved(self) -> None:
        r, c = self.r, self.r.changes
        self.add(f"<h2>{_e(self.t('report.moved'))}</h2>")
        cells = {(m.previous, m.current): m.accounts for m in r.migration}
        befores = {m.previous for m in r.migration}
        afters = {m.current for m in r.migration}
        rows = [g for g in GRADES if g in befores or g in afters]
        rows += sorted((befores | afters) - set(GRADES) - {NEW})
        columns = list(rows)
        if NEW in befores:
            rows.append(NEW)
        names = [self.t("report.new") if x == NEW else x for x in rows]
        grid = [[cells.get((b, a), 0) for a in columns] for b in rows]
        title = self.t("report.migration")
        self.figure(
            plots.matrix(
                "migration",
                title,
                names,
                columns,
                grid,
                self.t("report.previous_grade"),
                self.t("report.current_grade"),
            )
        )
        header = [f"{self.t('report.previous_grade')} \\ {self.t('report.current_grade')}"]
        header += [*columns, self.t("report.total")]
        body = [
            (_e(name), *(f"{v:,}" for v in line), f"{sum(line):,}")
            for name, line in zip(names, grid, strict=True)
        ]
        column_totals = [sum(line[j] for line in grid) for j in range(len(columns))]
        body.append(
            (
                _e(self.t("report.total")),
                *(f"{v:,}" for v in column_totals),
                f"{sum(column_totals):,}",
            )
        )
        self.table("migration", title, header, body, numeric=range(1, len(columns) + 2))
        key = [
            ("report.upgrades", c.upgrades),
            ("report.downgrades", c.downgrades),
            ("report.new_accounts", c.new_accounts),
            ("report.new_severe", c.new_severe_accounts),
            ("report.due_now", c.due_now),
            ("report.newly_due", c.newly_due),
        ]
        self.add('<ul class="key">')
        for name, value in key:
            self.add(f"<li>{_e(self.t(name))}<b>{value:,}</b></li>")
        self.add("</ul>")
        self.table(
            "limits",
            self.t("report.limit_changes"),
            [
                self.t("report.currency"),
                self.t("report.cuts"),
                self.t("report.cut_total"),
                self.t("report.rises"),
                self.t("report.rise_total"),
            ],
            [
                (
                    _e(x.currency or "-"),
                    f"{x.cuts:,}",
                    _e(self.money(x.cut_total, x.currency)),
                    f"{x.rises:,}",
                    _e(self.money(x.rise_total, x.currency)),
                )
                for x in c.limits
            ]
            or [(_e(self.t("report.nothing")), "", "", "", "")],
            numeric=range(1, 5),
        )
        for key_name, listed, total in (
            ("downgraded", c.downgraded, c.downgrades),
            ("new_severe_list", c.new_severe, c.new_severe_accounts),
        ):
            self.table(
                key_name,
                self.t(f"report.{key_name}"),
                [
                    self.t("report.account"),
                    self.t("report.previous_grade"),
                    self.t("report.current_grade"),
                    self.t("report.exposure"),
                    self.t("report.new_flags"),
                    self.t("report.reasons"),
                ],
                [
                    (
                        self.account(x.account_id, x.name, x.url),
                        _e(x.previous_grade),
                        _e(x.grade),
                        _e(self.money(x.exposure, x.currency)),
                        self.flags(x.new_flags),
                        self.reasons(x.reasons),
                    )
                    for x in listed
                ]
                or [(_e(self.t("report.nothing")), "", "", "", "", "")],
                numeric=(3,),
            )
            if total > len(listed):
                self.add(f"<p>{_e(self.t('report.listed', n=LISTED, total=f'{total:,}'))}</p>")

    def account(self, account_id: str, name: str, url: str | None) -> str:
        text = f"{_e(name)}<br><small>{_e(account_id)}</small>"
        if url:
            text += f' <small><a href="{_e(url)}">{_e(self.t("report.open"))}</a></small>'
        return text

    def flags(self, codes: Iterable[str]) -> str:
        return "<br>".join(
            f"{_e(code)} {_e(self.flag_labels.get(code, ''))}".rstrip() for code in codes
        )

    def reasons(self, reasons: Iterable[dict[str, object]]) -> str:
        return "<br>".join(_e(r.get(self.lang) or r.get("en") or r.get("code")) for r in reasons)

    def flags_section(self) -> None:
        rows = self.r.flags
        self.add(f"<h2>{_e(self.t('report.flags'))}</h2>")
        title = self.t("report.flags_title")
        severity = {s: self.t(f"severity.{s}") for s in ("low", "medium", "high")}
        self.figure(
            plots.bars(
                "flags",
                title,
                [f"{f.code} {self.flag_labels.get(f.code, '')}".strip() for f in rows],
                [f.accounts for f in rows],
                [f"{f.accounts:,} ({severity.get(f.severity, '-')})" for f in rows],
                horizontal=True,
                hatches=[plots.SEVERITY_HATCH.get(f.severity, "") for f in rows],
                greys=[plots.SEVERITY_GREY.get(f.severity, "#ffffff") for f in rows],
                ylabel=self.t("report.accounts"),
            )
        )
        self.table(
            "flags",
            title,
            [
                self.t("report.flag"),
                self.t("report.severity"),
                self.t("report.accounts"),
                *GRADES,
            ],
            [
                (
                    self.flags([f.code]),
                    _e(severity.get(f.severity, "-")),
                    f"{f.accounts:,}",
                    *(f"{f.by_grade.get(g, 0):,}" for g in GRADES),
                )
                for f in rows
            ],
            numeric=range(2, 3 + len(GRADES)),
        )

    def completeness(self) -> None:
        rows = self.r.completeness
        self.add(f"<h2>{_e(self.t('report.completeness'))}</h2>")
        title = self.t("report.completeness_title")
        self.figure(
            plots.bars(
                "completeness",
                title,
                [c.grade for c in rows],
                [c.average or 0 for c in rows],
                [_num(c.average, 1) for c in rows],
                ylabel=self.t("report.average"),
            )
        )
        self.table(
            "completeness",
            title,
            [
                self.t("report.grade"),
                self.t("report.accounts"),
                self.t("report.average"),
                self.t("report.under_60"),
                self.t("report.no_statement"),
                self.t("report.stale"),
            ],
            [
                (
                    _e(c.grade),
                    f"{c.accounts:,}",
                    _num(c.average, 1),
                    f"{c.under_60:,}",
                    f"{c.no_statement:,}",
                    f"{c.stale:,}",
                )
                for c in rows
            ],
            numeric=range(1, 6),
        )

    def top(self) -> None:
        self.add(f"<h2>{_e(self.t('report.top', n=TOP))}</h2>")
        self.add(f"<p>{_e(self.t('report.top_note'))}</p>")
        self.table(
            "top",
            self.t("report.top", n=TOP),
            [
                "#",
                self.t("report.account"),
                self.t("report.grade"),
                self.t("report.score"),
                self.t("report.status"),
                self.t("report.exposure"),
                self.t("report.limit"),
                self.t("report.flags"),
                self.t("report.reasons"),
            ],
            [
                (
                    str(i),
                    self.account(a.account_id, a.name, a.url),
                    _e(a.grade),
                    _num(a.score),
                    _e(self.statuses.get(a.status, a.status)),
                    _e(self.money(a.exposure, a.currency)),
                    _e(self.money(a.credit_limit, a.currency)),
                    ("<b>!</b> " if a.new_severe else "") + self.flags(a.flags),
                    self.reasons(a.reasons),
                )
                for i, a in enumerate(self.r.top, 1)
            ],
            numeric=(0, 3, 5, 6),
        )

    def runs(self) -> None:
        rows = self.r.runs
        self.add(f"<h2>{_e(self.t('report.runs'))}</h2>")
        title = self.t("report.runs_title")
        self.figure(
            plots.lines(
                "runs",
                title,
                [str(x.run_id) for x in rows],
                [
                    (self.t("report.read"), [x.read for x in rows]),
                    (self.t("report.written"), [x.written for x in rows]),
                    (self.t("report.failed"), [x.failed for x in rows]),
                ],
            )
        )
        self.table(
            "runs",
            title,
            [
                self.t("report.run"),
                self.t("report.started"),
                self.t("report.kind"),
                self.t("col.status"),
                self.t("report.read"),
                self.t("report.written"),
                self.t("report.failed"),
                self.t("report.api_calls"),
                self.t("report.duration"),
                self.t("report.exit_code"),
            ],
            [
                (
                    str(x.run_id),
                    _e(x.started_at[:19].replace("T", " ")),
                    _e(t_or(f"run.{x.kind}", self.lang, x.kind)),
                    _e(t_or(f"run.{x.status}", self.lang, x.status)),
                    f"{x.read:,}",
                    f"{x.written:,}",
                    f"{x.failed:,}",
                    f"{x.api_calls:,}",
                    _num(x.duration_s, 1),
                    "-" if x.exit_code is None else str(x.exit_code),
                )
                for x in rows
            ],
            numeric=(0, 4, 5, 6, 7, 8, 9),
        )

    def psi(self) -> None:
        # The policy lab's population stability index, as the runs recorded it; nothing is
        # shown when no run did (sync.stability off, or a single run).
        if not self.r.psi:
            return
        self.add(f"<h2>{_e(self.t('report.psi'))}</h2>")
        keys = list(self.r.psi[0])
        levels = {"stable": "report.psi_stable", "watch": "report.psi_watch"}
        levels["act"] = "report.psi_act"
        rows = []
        for row in self.r.psi:
            shown = dict(row)
            shown["level"] = t_or(levels.get(str(row["level"]), ""), self.lang, row["level"])
            rows.append(tuple(_e(shown.get(k, "")) for k in keys))
        self.table(
            "psi",
            self.t("report.psi"),
            [self.t(f"report.psi_{k}") for k in keys],
            rows,
        )

    def html(self) -> str:
        self.header()
        self.summary()
        self.portfolio()
        self.statuses_section()
        self.utilisation()
        self.moved()
        self.flags_section()
        self.completeness()
        self.top()
        self.runs()
        self.psi()
        lang = "zh-CN" if self.lang == "zh" else "en"
        title = f"{self.t('report.title')} · {self.r.meta.target}"
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(self.parts)
            + "\n</body>\n</html>\n"
        )


def render_html(report: Report, lang: str, policy: Policy) -> str:
    """The page of ``report`` in ``lang`` ("en" or "zh"); labels of statuses and flags come
    from ``policy``."""
    return _Page(report, lang, policy).html()
