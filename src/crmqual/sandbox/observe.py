"""What the sandbox saw: calls per endpoint and a summary of the write log."""

from __future__ import annotations

from collections import Counter
from typing import Any

from crmqual.sandbox.store import SandboxStore


def stats(store: SandboxStore, credits: dict[str, Any] | None = None) -> dict[str, Any]:
    """`{"calls": {endpoint: n}, "calls_total": n, "credits": {...}, "writes": {...}}` for
    `crmqual sandbox stats`; `credits` as `ZohoSandbox.credits()` gives them."""
    calls = store.call_counts()
    writes = store.writes()
    fields: Counter[str] = Counter()
    for entry in writes:
        fields.update(entry.changes.keys())
    return {
        "calls": calls,
        "calls_total": sum(calls.values()),
        "credits": credits or {},
        "writes": {
            "total": len(writes),
            "records": len({(w.module, w.record_id) for w in writes}),
            "by_source": dict(Counter(w.source for w in writes)),
            "by_client": dict(Counter(w.client for w in writes)),
            "fields_changed": dict(fields.most_common()),
        },
    }


def format_stats(summary: dict[str, Any]) -> str:
    lines = [f"API calls: {summary['calls_total']}"]
    lines += [f"  {n:>8}  {endpoint}" for endpoint, n in summary["calls"].items()]
    credits = summary.get("credits") or {}
    if credits:
        allowance = credits["allowance"]
        of = "unlimited" if allowance is None else f"{credits['remaining']} of {allowance} left"
        lines.append(
            f"API credits: {credits['spent']} spent, {credits['in_window']} in the last 24 h "
            f"({of}; edition {credits['edition']}, {credits['concurrency']} concurrent calls)"
        )
    writes = summary["writes"]
    lines.append(f"Writes: {writes['total']} to {writes['records']} records")
    lines += [f"  {n:>8}  source {source}" for source, n in writes["by_source"].items()]
    lines += [f"  {n:>8}  client {client}" for client, n in writes["by_client"].items()]
    lines += [f"  {n:>8}  field {name}" for name, n in writes["fields_changed"].items()]
    return "\n".join(lines)
