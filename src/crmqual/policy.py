"""Policy as code: the YAML schema, loading with complete error reports, and the version.

A policy is declarative data (never ``eval``): admission rules, a banded scorecard,
grade bands, credit-limit rules, payment terms, warning flags and bilingual texts.
``load_policy`` validates a file and reports *every* problem at once, each naming the
file, the key and the reason. ``Policy.version`` is the policy's name plus a hash of its
parsed content, so editing a comment changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import string
from collections.abc import Mapping
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmqual.errors import Invalid
from crmqual.indicators import INDICATORS
from crmqual.yamlfile import parse_yaml_text, read_yaml, validate

#: Indicators the engine computes while assessing, usable in rules but not in the scorecard.
ENGINE_INDICATORS = {
    "data_completeness": "number",  # 0..1, weighted share of scorecard inputs present
    "statements_balanced": "bool",  # assets = liabilities + equity within tolerance
    "grade_rank": "number",  # 0 for A ... 4 for E
}
#: Findings of the limit calculation that need a text in ``credit_limit.texts``.
LIMIT_TEXTS = ("CURRENCY_MISSING", "CURRENCY_NO_RATE", "LIMIT_NO_FINANCIALS")
Severity = Literal["low", "medium", "high"]
GRADES = ("A", "B", "C", "D", "E")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text shown to salespeople, in English and Chinese; may use ``{value}``."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    @model_validator(mode="after")
    def _only_value_placeholder(self) -> Text:
        for lang in (self.en, self.zh):
            for _, field, _, _ in string.Formatter().parse(lang):
                if field not in (None, "value"):
                    raise Invalid(
                        f"only the placeholder {{value}} is allowed, not {{{field}}}",
                        f"只允许占位符 {{value}}，不能用 {{{field}}}",
                    )
        return self


class ReasonText(Text):
    """An indicator's reason; ``negative`` (optional) is its wording for a value below zero,
    so that a negative margin reads "is negative" rather than "is low"."""

    negative: Text | None = None


class FieldText(_Strict):
    """A text about one input field: may use ``{field}`` (its name) and ``{value}`` (raw)."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    @model_validator(mode="after")
    def _only_field_and_value(self) -> FieldText:
        for lang in (self.en, self.zh):
            for _, field, _, _ in string.Formatter().parse(lang):
                if field not in (None, "field", "value"):
                    raise Invalid(
                        f"only {{field}} and {{value}} are allowed, not {{{field}}}",
                        f"只允许 {{field}} 和 {{value}}，不能用 {{{field}}}",
                    )
        return self


#: The reason an unreadable input gives (reason code ``UNREADABLE_VALUE``) when a policy
#: written before it existed does not set ``scorecard.unreadable_reason``.
DEFAULT_UNREADABLE_REASON = FieldText(
    en="{field}: could not read {value}; assessed as missing.",
    zh="{field}：无法识别“{value}”，按缺失处理。",
)


class Condition(_Strict):
    """A declarative test of one indicator, or ``any``/``all`` of nested conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    indicator: str | None = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    is_: bool | None = Field(default=None, alias="is")
    missing: bool | None = None
    any: list[Condition] | None = None
    all: list[Condition] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        ops = [
            k
            for k in ("lt", "le", "gt", "ge", "in_", "is_", "missing")
            if getattr(self, k) is not None
        ]
        nested = [k for k in ("any", "all") if getattr(self, k) is not None]
        if nested:
            if self.indicator is not None or ops or len(nested) > 1:
                raise Invalid(
                    "use either 'any', 'all', or 'indicator' with one operator",
                    "只能用 'any'、'all' 之一，或 'indicator' 加一个运算符",
                )
            return self
        if self.indicator is None:
            raise Invalid(
                "a condition needs 'indicator' (or 'any'/'all')",
                "条件需要 'indicator'（或 'any' / 'all'）",
            )
        if len(ops) != 1:
            raise Invalid(
                "give exactly one of lt, le, gt, ge, in, is, missing",
                "lt、le、gt、ge、in、is、missing 只能给一个",
            )
        kind = _indicator_kind(self.indicator)
        if kind is None:
            raise Invalid(f"unknown indicator {self.indicator!r}", f"未知的指标 {self.indicator!r}")
        op = ops[0]
        if op in ("lt", "le", "gt", "ge") and kind != "number":
            raise Invalid(
                f"{self.indicator} is {kind}; '{op}' needs a number",
                f"{self.indicator} 是{_KIND_ZH.get(kind, kind)}；'{op}' 需要数值指标",
            )
        if op == "is_" and kind != "bool":
            raise Invalid(
                f"{self.indicator} is {kind}; 'is' needs a yes/no indicator",
                f"{self.indicator} 是{_KIND_ZH.get(kind, kind)}；'is' 需要是/否指标",
            )
        return self


class Rule(_Strict):
    """An admission rule: when it holds, its code and text become a finding."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    when: Condition
    text: Text


class Admission(_Strict):
    knockouts: list[Rule] = []
    review: list[Rule] = []
    conditions: list[Rule] = []
    conditional_grades: list[str] = []
    knockout_grade: str = "E"


class ScoredIndicator(_Strict):
    indicator: str
    direction: Literal["safer", "riskier"]
    bands: list[float] = Field(min_length=1)
    points: list[float]
    weight: float = Field(default=1.0, gt=0)
    missing: float | None = Field(default=None, ge=0, le=100)
    reason: ReasonText

    @model_validator(mode="after")
    def _bands_and_points(self) -> ScoredIndicator:
        kind = _indicator_kind(self.indicator)
        if kind is None or self.indicator in ENGINE_INDICATORS:
            raise Invalid(
                f"unknown scorecard indicator {self.indicator!r}",
                f"评分卡中未知的指标 {self.indicator!r}",
            )
        if kind == "text":
            raise Invalid(
                f"{self.indicator} is text; score it through admission rules",
                f"{self.indicator} 是文本；请通过准入规则评估",
            )
        if any(b >= c for b, c in pairwise(self.bands)):
            raise Invalid("bands must be strictly ascending thresholds", "bands 的阈值必须严格递增")
        if len(self.points) != len(self.bands) + 1:
            raise Invalid(
                f"{len(self.bands)} thresholds make {len(self.bands) + 1} bands;"
                f" points lists {len(self.points)}",
                f"{len(self.bands)} 个阈值构成 {len(self.bands) + 1} 个区间；"
                f"points 却有 {len(self.points)} 个",
            )
        if any(not 0 <= p <= 100 for p in self.points):
            raise Invalid("points must lie between 0 and 100", "points 必须在 0 到 100 之间")
        pairs = list(pairwise(self.points))
        if self.direction == "safer" and any(a > b for a, b in pairs):
            raise Invalid(
                "a 'safer' indicator's points must not fall as the value rises",
                "'safer' 指标的得分不能随数值上升而下降",
            )
        if self.direction == "riskier" and any(a < b for a, b in pairs):
            raise Invalid(
                "a 'riskier' indicator's points must not rise as the value rises",
                "'riskier' 指标的得分不能随数值上升而上升",
            )
        return self


class Dimension(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    weight: float = Field(gt=0)
    indicators: list[ScoredIndicator] = Field(min_length=1)


class Scorecard(_Strict):
    missing_points: float = Field(ge=0, le=100)
    dimensions: list[Dimension] = Field(min_length=1)
    max_reasons: int = Field(default=4, ge=1, le=10)
    #: An indicator becomes a reason only when its points fall below this (a weakness).
    reason_below_points: float = Field(default=50, ge=0, le=100)
    missing_reason: Text
    unbalanced_reason: Text
    #: An input whose value could not be read is scored as missing and named in this reason.
    unreadable_reason: FieldText = DEFAULT_UNREADABLE_REASON
    #: The flag an account with an unreadable input carries (when the policy defines it).
    unreadable_flag: str | None = "INCOMPLETE_DATA"
    balance_tolerance: float = Field(default=0.02, ge=0)


class GradeBand(_Strict):
    grade: Literal["A", "B", "C", "D", "E"]
    min_score: float = Field(ge=0, le=100)
    label: Text


class PaymentTerm(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    days: int = Field(ge=0)
    label: Text


class GradeLimit(_Strict):
    """Capacity shares for one grade; the capacity is the smallest of those that apply."""

    equity_share: float = Field(ge=0, le=1)
    revenue_share: float = Field(ge=0, le=1)
    working_capital_share: float | None = Field(default=None, ge=0, le=1)
    cap_share: float = Field(ge=0, le=1)


class Rates(_Strict):
    """Units of each currency per one unit of ``base`` (e.g. base USD, CNY: 7.1)."""

    base: str = "USD"
    per_base: dict[str, float] = {}


class CreditLimit(_Strict):
    rounding: float = Field(gt=0)
    tolerated_delay_days: int = Field(ge=0)
    max_limit: dict[str, float]
    rates: Rates = Rates()
    grades: dict[Literal["A", "B", "C", "D", "E"], GradeLimit]
    texts: dict[str, Text]

    @model_validator(mode="after")
    def _complete(self) -> CreditLimit:
        missing = [g for g in GRADES if g not in self.grades]
        if missing:
            raise Invalid(
                f"grades lack limit rules for {', '.join(missing)}",
                f"以下等级缺少额度规则：{'、'.join(missing)}",
            )
        needed = set(LIMIT_TEXTS) - set(self.texts)
        if needed:
            raise Invalid(
                f"texts lack {', '.join(sorted(needed))}",
                f"texts 缺少：{'、'.join(sorted(needed))}",
            )
        return self


class Flag(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    severity: Severity
    label: Text
    when: Condition | None = None
    builtin: Literal["over_limit", "grade_downgrade"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Flag:
        if (self.when is None) == (self.builtin is None):
            raise Invalid(
                "a flag needs exactly one of 'when' or 'builtin'",
                "预警需要且只能有 'when' 或 'builtin' 之一",
            )
        return self


class Policy(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    admission: Admission
    scorecard: Scorecard
    grades: list[GradeBand]
    statuses: dict[Literal["approved", "conditional", "review", "rejected"], Text]
    payment_terms: list[PaymentTerm]
    grade_terms: dict[Literal["A", "B", "C", "D", "E"], str]
    rejected_terms: str
    credit_limit: CreditLimit
    flags: list[Flag]
    grade_downgrade_hold_days: int = Field(ge=0)

    @property
    def version(self) -> str:
        """``name@hash``: the hash covers the parsed content, not the file's bytes."""
        data = self.model_dump(mode="json", by_alias=True)
        for dim in data["scorecard"]["dimensions"]:  # a policy without a negative: variant
            for ind in dim["indicators"]:  # keeps the version it had before they existed
                if ind["reason"].get("negative") is None:
                    ind["reason"].pop("negative", None)
        canonical = json.dumps(data, sort_keys=True)
        return f"{self.name}@{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"

    @property
    def weight_total(self) -> float:
        """The dimensions' weights added up; scores are normalised when it is not 100."""
        return sum(d.weight for d in self.scorecard.dimensions)

    def term(self, code: str) -> PaymentTerm:
        return next(t for t in self.payment_terms if t.code == code)


def _indicator_kind(name: str) -> str | None:
    if name in ENGINE_INDICATORS:
        return ENGINE_INDICATORS[name]
    indicator = INDICATORS.get(name)
    return None if indicator is None else indicator.kind


DEFAULT_POLICY_RESOURCE = "default_policy.yaml"


def default_policy_text() -> str:
    return resources.files("crmqual.data").joinpath(DEFAULT_POLICY_RESOURCE).read_text("utf-8")


def parse_policy(data: Any, source: str) -> Policy:
    """Validate parsed YAML; raise ConfigError listing every problem with its key."""
    return validate(Policy, data, source, cross_reference_problems)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _dict(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def cross_reference_problems(data: Mapping[str, Any]) -> list[tuple[str, str | Invalid]]:
    """(key, reason) for references between sections; runs on the raw data so that its
    problems are reported together with the schema's, not after they are fixed."""
    problems: list[tuple[str, str | Invalid]] = []
    bands = _list(data, "grades")
    grades = [g.get("grade") for g in bands]
    if sorted(str(g) for g in grades) != list(GRADES):
        problems.append(
            (
                "grades",
                Invalid("must list A, B, C, D and E once each", "必须各列一次 A、B、C、D、E"),
            )
        )
    else:
        floors = [g.get("min_score") for g in sorted(bands, key=lambda g: str(g["grade"]))]
        numbers = [f for f in floors if isinstance(f, int | float)]
        if len(numbers) == len(floors):
            if any(a <= b for a, b in pairwise(numbers)):
                problems.append(
                    (
                        "grades",
                        Invalid(
                            "min_score must fall strictly from A to E",
                            "min_score 必须从 A 到 E 严格递减",
                        ),
                    )
                )
            if numbers[-1] != 0:
                problems.append(
                    (
                        "grades",
                        Invalid(
                            "E must start at min_score 0 so every score has a grade",
                            "E 的 min_score 必须为 0，每个评分才都有等级",
                        ),
                    )
                )
    terms = {t.get("code") for t in _list(data, "payment_terms") if _is_key(t.get("code"))}
    grade_terms = _dict(data, "grade_terms")
    for grade, code in grade_terms.items():
        if not _is_key(code) or code not in terms:
            problems.append((f"grade_terms.{grade}", _unknown_term(code)))
    if grade_terms and sorted(str(g) for g in grade_terms) != list(GRADES):
        problems.append(
            (
                "grade_terms",
                Invalid("must give terms for A, B, C, D and E", "必须为 A、B、C、D、E 都给出账期"),
            )
        )
    rejected = data.get("rejected_terms")
    if rejected is not None and (not _is_key(rejected) or rejected not in terms):
        problems.append(("rejected_terms", _unknown_term(rejected)))
    admission = _dict(data, "admission")
    conditional = admission.get("conditional_grades")
    named = [
        *(conditional if isinstance(conditional, list) else []),
        admission.get("knockout_grade", "E"),
    ]
    for grade in named:
        if not _is_key(grade) or grade not in GRADES:
            problems.append(
                ("admission", Invalid(f"unknown grade {grade!r}", f"未知的等级 {grade!r}"))
            )
    codes = [str(f.get("code")) for f in _list(data, "flags") if _is_key(f.get("code"))]
    if len(codes) != len(set(codes)):
        problems.append(("flags", Invalid("each code may appear once", "每个 code 只能出现一次")))
    scorecard = _dict(data, "scorecard")
    flag = scorecard.get("unreadable_flag")
    if "unreadable_flag" in scorecard and flag is not None and flag not in codes:
        problems.append(
            (
                "scorecard.unreadable_flag",
                Invalid(
                    f"no flag with code {flag!r} in flags", f"flags 中没有 code 为 {flag!r} 的预警"
                ),
            )
        )
    names = [str(d.get("name")) for d in _list(scorecard, "dimensions") if _is_key(d.get("name"))]
    if len(names) != len(set(names)):
        problems.append(
            ("scorecard.dimensions", Invalid("each name may appear once", "每个 name 只能出现一次"))
        )
    return problems + non_finite_numbers(data)


def _unknown_term(code: Any) -> Invalid:
    return Invalid(f"unknown payment term {code!r}", f"未知的账期 {code!r}")


#: an indicator's kind, as the Chinese reasons name it
_KIND_ZH = {"number": "数值", "bool": "是/否", "text": "文本"}


def _is_key(value: Any) -> bool:
    """A plain value (a list or mapping where a code belongs is the schema's to report)."""
    return isinstance(value, str | int | float | bool) or value is None


def non_finite_numbers(data: Any, key: str = "") -> list[tuple[str, str | Invalid]]:
    """(key, reason) for every NaN or infinite number anywhere in a policy (YAML's .nan,
    .inf): a limit or threshold that is not a number would break every assessment."""
    if isinstance(data, float) and not math.isfinite(data):
        return [
            (
                key,
                Invalid(f"must be a finite number, not {data}", f"必须是有限的数字，不能是 {data}"),
            )
        ]
    if isinstance(data, Mapping):
        found: list[tuple[str, str | Invalid]] = []
        for k, v in data.items():
            found += non_finite_numbers(v, f"{key}.{k}" if key else str(k))
        return found
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in non_finite_numbers(v, f"{key}.{i}")]
    return []


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; ``None`` loads the default policy shipped inside."""
    if path is None:
        return parse_policy(
            parse_yaml_text(default_policy_text(), "default_policy.yaml"), "default"
        )
    return parse_policy(read_yaml(path), str(path))
