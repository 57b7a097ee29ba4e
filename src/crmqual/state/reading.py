"""Reading assessment rows back: a slim row's reasons are rendered from ``reason_texts`` and
its native values from its run's layout (``crmqual.state.rows`` says how rows are kept)."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crmqual.compiled import Reason
from crmqual.compiled_mapping import CompiledOutputs
from crmqual.engine import Assessment
from crmqual.mapping import Labels, OutputRule
from crmqual.model import Account
from crmqual.outputs import canonical, previous_from_canonical
from crmqual.state.database import Database, chunks
from crmqual.state.rows import decode_account, decode_inputs
from crmqual.state.schema import reason_texts, runs

SLIM, AS_GIVEN = 1, 0


@dataclass(frozen=True)
class Layout:
    """How a run's slim rows render their native values: the mapping's output rules (by
    output name) and the policy's code labels."""

    rules: dict[str, OutputRule]  # by output name
    labels: Labels

    def native(self, assessment: Assessment) -> dict[str, Any]:
        return self._writers.to_native(self.labels, assessment)

    @functools.cached_property
    def _writers(self) -> CompiledOutputs:
        return CompiledOutputs(self.rules)

    def as_json(self) -> dict[str, Any]:
        return {
            "outputs": {
                name: rule.model_dump(mode="json") | {"field": rule.native}
                for name, rule in self.rules.items()
            },
            "labels": {"en": self.labels.en, "zh": self.labels.zh},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        rules = {name: OutputRule.model_validate(r) for name, r in data["outputs"].items()}
        labels = Labels(en=data["labels"]["en"], zh=data["labels"]["zh"])
        return cls(rules, labels)


@functools.lru_cache(maxsize=4096)  # a policy has a few hundred templates; rows repeat them
def reason_text_key(en: str, zh: str) -> str:
    """A reason template's key in ``reason_texts``: 64 bits of its texts' hash."""
    digest = hashlib.blake2b(f"{en}\x00{zh}".encode(), digest_size=8).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class RowReader:
    """Reads an assessment row back: renders a slim row's reasons (texts from
    ``reason_texts``) and native values (the run's layout); caches both per store."""

    def __init__(self, store: RowReading) -> None:
        self.store = store
        self.texts: dict[str, tuple[str, str]] = {}
        self.layouts: dict[int, Layout | None] = {}
        #: The last row read as an assessment, and it: a row's native values and its
        #: outputs render from the same one. One tuple, swapped whole (threads share this).
        self._last: tuple[Any, Assessment | None] = (None, None)

    def prepare(self, rows: Iterable[Any]) -> None:
        """Fetch what decoding these rows needs and is not cached, in two queries."""
        keys: set[str] = set()
        run_ids: set[int] = set()
        for row in rows:
            if row.form == SLIM:
                run_ids.add(row.run_id)
                keys.update(entry[1] for entry in row.reasons or ())
        self.store._load_texts(keys - self.texts.keys(), self.texts)
        self.store._load_layouts(run_ids - self.layouts.keys(), self.layouts)

    def reason_objects(self, row: Any) -> list[Reason]:
        return self.reason_objects_of(row.reasons or ())

    def reason_objects_of(self, entries: Iterable[Any]) -> list[Reason]:
        found = []
        for code, key, *value in entries:
            en, zh = self.texts[key]
            found.append(Reason(code, en, zh, value[0] if value else None))
        return found

    def reasons(self, row: Any) -> list[dict[str, Any]]:
        if row.form != SLIM:
            return list(row.reasons or [])
        return [r.as_dict() for r in self.reason_objects(row)]

    def outputs(self, row: Any) -> dict[str, Any]:
        """Canonical outputs, and when the current downgrade happened (as a sync keeps them)."""
        if row.form != SLIM:
            return dict(row.outputs or {})
        downgraded: datetime | None = row.downgraded_at
        iso = downgraded.isoformat() if downgraded else None
        return canonical(self.assessment(row)) | {"downgraded_at": iso}

    def account(self, row: Any) -> dict[str, Any]:
        if row.inputs is not None:
            return decode_inputs(row.account_id, row.inputs, row._mapping)
        return dict(row.account or {})

    def account_model(self, row: Any) -> Account | None:
        """The row's inputs as an Account, when they were kept from one (no need to validate
        them again); None when they must be validated (``account``), a value that does not
        read back included (the caller's validation then says what is wrong with it)."""
        if row.inputs is None:
            return None
        try:
            return decode_account(row.account_id, row.inputs, row._mapping)
        except ValueError:
            return None

    def native(self, row: Any) -> dict[str, Any]:
        if row.form != SLIM:
            return dict(row.native or {})
        layout = self.layouts.get(row.run_id)
        if layout is None:
            raise LookupError(f"run {row.run_id} recorded no output layout for its rows")
        return layout.native(self.assessment(row))

    def assessment(self, row: Any) -> Assessment:
        """A slim row's outputs as the engine's assessment (what its native values and
        canonical outputs render from)."""
        last_row, last = self._last
        if last_row is row and last is not None:
            return last
        made = self._assessment(row)
        self._last = (row, made)
        return made

    def _assessment(self, row: Any) -> Assessment:
        limit = row.credit_limit
        return Assessment(
            account_id=row.account_id,
            status=row.credit_status or "",
            grade=row.grade or "E",
            score=row.score or 0,
            credit_limit=None if limit is None else int(limit),
            limit_currency=row.limit_currency,
            payment_terms=row.payment_terms or "",
            flags=tuple(row.flags or ()),
            reasons=tuple(self.reason_objects(row)),
            data_completeness=row.data_completeness or 0,
            policy_version=row.policy_version,
            assessed_at=row.assessed_at,
            downgraded_at=row.downgraded_at,
        )

    def as_previous(self, row: Any) -> Assessment | None:
        """The row as the engine's ``previous`` assessment; None when it holds no assessment
        time (a row kept as given may not). A slim row gives its assessment as it is, not
        rebuilt from its canonical outputs."""
        if row.form == SLIM:
            return self.assessment(row)
        outputs = self.outputs(row)
        if not outputs.get("assessed_at"):
            return None
        return previous_from_canonical(row.account_id, outputs)

    def previous(self, row: Any, native: dict[str, Any]) -> dict[str, Any]:
        if row.form != SLIM:
            return dict(row.previous_native or {})
        return dict.fromkeys(native) | (row.previous_native or {})


class RowReading(Database):
    """What every part of the store that reads assessment rows shares: the reader and the
    caches behind it."""

    @functools.cached_property
    def _reader(self) -> RowReader:
        return RowReader(self)

    def _load_texts(self, keys: set[str], into: dict[str, tuple[str, str]]) -> None:
        if not keys:
            return
        t = reason_texts
        with self._read() as conn:
            for chunk in chunks(sorted(keys)):
                query = sa.select(t.c.key, t.c.en, t.c.zh).where(t.c.key.in_(chunk))
                into.update((r.key, (r.en, r.zh)) for r in conn.execute(query))

    def _load_layouts(self, run_ids: set[int], into: dict[int, Layout | None]) -> None:
        if not run_ids:
            return
        with self._read() as conn:
            query = sa.select(runs.c.id, runs.c.layout).where(runs.c.id.in_(sorted(run_ids)))
            for r in conn.execute(query):
                into[r.id] = None if r.layout is None else Layout.from_json(r.layout)

    def readable_reasons(self, stored: Any) -> list[dict[str, Any]]:
        """A ``reasons`` column's value as ``{code, en, zh}`` dicts, whatever the row's form."""
        entries = list(stored or [])
        if not entries or isinstance(entries[0], dict):
            return entries
        self._load_texts({e[1] for e in entries} - self._reader.texts.keys(), self._reader.texts)
        return [r.as_dict() for r in self._reader.reason_objects_of(entries)]
