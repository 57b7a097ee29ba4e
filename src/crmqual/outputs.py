"""The outputs crmqual produces, named once.

Every consumer (``assess --json/--csv``, the file adapter, the mappings' output side and
the state store) takes an assessment's outputs from here, under these names. The README's
"Outputs" table documents the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmqual.compiled import Reason
from crmqual.engine import Assessment
from crmqual.times import parse_time


@dataclass(frozen=True)
class Output:
    name: str
    type: str
    meaning: str


OUTPUTS: tuple[Output, ...] = (
    Output("status", "code", "admission result: approved, conditional, review or rejected"),
    Output("grade", "code", "risk grade A (best) to E (worst)"),
    Output("score", "integer 0-100", "higher is safer"),
    Output("credit_limit", "integer or empty", "recommended limit; 0 means prepayment"),
    Output("limit_currency", "ISO 4217 code", "currency of credit_limit"),
    Output("payment_terms", "code", "e.g. NET60, NET30, GUARANTEE, PREPAY"),
    Output("flags", "list of codes", "warning flags, in the policy's order"),
    Output("reasons", "list of (code, en, zh)", "the findings that moved the grade most"),
    Output("data_completeness", "integer 0-100", "percent of the scorecard's inputs on file"),
    Output("policy_version", "text", "policy name @ hash of its content"),
    Output("assessed_at", "ISO-8601 date-time", "when the assessment was made (as of)"),
)
OUTPUT_NAMES: tuple[str, ...] = tuple(o.name for o in OUTPUTS)
#: CSV columns: reasons are spread over three (codes, English texts, Chinese texts).
CSV_COLUMNS: tuple[str, ...] = (
    *OUTPUT_NAMES[:8],
    "reasons_en",
    "reasons_zh",
    *OUTPUT_NAMES[8:],
)
LIST_SEPARATOR = ";"
TEXT_SEPARATOR = " | "


def canonical(a: Assessment) -> dict[str, Any]:
    """The outputs as JSON-able values under their canonical names."""
    return {
        "status": a.status,
        "grade": a.grade,
        "score": a.score,
        "credit_limit": a.credit_limit,
        "limit_currency": a.limit_currency,
        "payment_terms": a.payment_terms,
        "flags": list(a.flags),
        "reasons": [r.as_dict() for r in a.reasons],
        "data_completeness": a.data_completeness,
        "policy_version": a.policy_version,
        "assessed_at": a.assessed_at.isoformat(),
    }


def csv_row(a: Assessment) -> dict[str, str]:
    """The outputs as CSV cells (lists joined by ``;``, texts by `` | ``)."""
    return {
        "status": a.status,
        "grade": a.grade,
        "score": str(a.score),
        "credit_limit": "" if a.credit_limit is None else str(a.credit_limit),
        "limit_currency": a.limit_currency or "",
        "payment_terms": a.payment_terms,
        "flags": LIST_SEPARATOR.join(a.flags),
        "reasons": LIST_SEPARATOR.join(r.code for r in a.reasons),
        "reasons_en": TEXT_SEPARATOR.join(r.en for r in a.reasons),
        "reasons_zh": TEXT_SEPARATOR.join(r.zh for r in a.reasons),
        "data_completeness": str(a.data_completeness),
        "policy_version": a.policy_version,
        "assessed_at": a.assessed_at.isoformat(),
    }


def previous_from_canonical(account_id: str, outputs: dict[str, Any]) -> Assessment:
    """Rebuild the parts of an earlier assessment the engine's ``previous`` needs (when the
    current downgrade happened too, where the outputs say)."""
    return Assessment(
        account_id=account_id,
        status=str(outputs.get("status") or ""),
        grade=str(outputs.get("grade") or "E"),
        score=int(outputs.get("score") or 0),
        credit_limit=outputs.get("credit_limit"),
        limit_currency=outputs.get("limit_currency"),
        payment_terms=str(outputs.get("payment_terms") or ""),
        flags=tuple(outputs.get("flags") or ()),
        reasons=tuple(
            Reason(r["code"], r.get("en", ""), r.get("zh", "")) for r in outputs.get("reasons", [])
        ),
        data_completeness=int(outputs.get("data_completeness") or 0),
        policy_version=str(outputs.get("policy_version") or ""),
        assessed_at=datetime.fromisoformat(str(outputs["assessed_at"])),
        downgraded_at=parse_time(outputs.get("downgraded_at")),
    )
