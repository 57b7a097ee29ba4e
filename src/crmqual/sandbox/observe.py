"""What the sandbox saw: calls per endpoint and a summary of the write log."""

from __future__ import annotations

from collections import Counter
from typing import Any

from crmqual.sandbox.store import SandboxStore


def stats(store: SandboxStore) -> dict[str, Any]:
    """`{"calls": {endpoint: n}, "calls_total": n, "writes": {...}}` for `crmqual sandbox stats`."""
    calls = store.call_counts()
    writes = store.writes()
    fields: Counter[str] = Counter()
    for entry in writes:
        fields.update(entry.changes.keys())
    return {
        "calls": calls,
        "calls_total": sum(calls.values()),
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
    writes = summary["writes"]
    lines.append(f"Writes: {writes['total']} to {writes['records']} records")
    lines += [f"  {n:>8}  source {source}" for source, n in writes["by_source"].items()]
    lines += [f"  {n:>8}  client {client}" for client, n in writes["by_client"].items()]
    lines += [f"  {n:>8}  field {name}" for name, n in writes["fields_changed"].items()]
    return "\n".join(lines)
