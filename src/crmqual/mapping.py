"""Mappings: a CRM's native fields to the common model, and crmqual's outputs back.

A mapping is YAML (one shipped per CRM in ``mappings/``; admins override it with their
own file). Its input side names, for each common-model field, the native field and its
transforms (scale such as 万元, value maps, date formats, a constant or a default). Its
output side names, for each canonical output, the native custom field crmqual owns: api
name, type, bilingual label and how values are written. A mapping is validated against
the model here and against the CRM's described fields (``check_fields``) before anything
is read; every problem names the file, the key and the reason.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmqual import registry
from crmqual.compiled_mapping import CompiledMapping
from crmqual.contract import Adapter, FieldSpec, FieldType, FilterRule, StepKind
from crmqual.engine import Assessment
from crmqual.errors import ConfigError, Invalid, Problem
from crmqual.inputs import RecordProblems as RecordProblems  # raised by read_record
from crmqual.model import ACCOUNT_FIELDS, Account
from crmqual.outputs import LIST_SEPARATOR, OUTPUT_NAMES
from crmqual.policy import GRADES, Policy, Text
from crmqual.values import Reading, Unreadable, decimal_mark, shown, unit_scale
from crmqual.yamlfile import read_yaml, validate


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputRule(_Strict):
    """Where one common-model field comes from, and how its native value is transformed."""

    field: str | None = None  # native api name; "Owner.name" reads inside a lookup
    #: The native field's label, for a CRM whose console names fields itself (Fxiaoke's
    #: ``field_xxxxx__c``): found through describe when the adapter is built.
    label: str | None = None
    const: Any = None
    default: Any = None
    scale: float | None = None  # e.g. 10000 for values kept in 万元
    unit: str | None = None  # the same said as a unit: 万元, 亿元, 千元, k, m
    #: How separators are read where they are ambiguous (1,234 / 1.234): en, zh, de, fr...
    locale: str | None = None
    map: dict[str, Any] | None = None  # native value -> model value
    date_format: str | None = None  # strptime format of a text date
    #: The native field may be absent from the CRM (then the input is always missing).
    optional: bool = False

    @model_validator(mode="after")
    def _source(self) -> InputRule:
        named = self.field is not None or self.label is not None
        if named == (self.const is not None):
            raise Invalid(
                "give exactly one of 'field' (or 'label') or 'const'",
                "'field'（或 'label'）和 'const' 必须且只能给一个",
            )
        if self.scale is not None and self.unit is not None:
            raise Invalid("give one of 'scale' or 'unit', not both", "'scale' 和 'unit' 只能给一个")
        if self.scale is not None and not (math.isfinite(self.scale) and self.scale > 0):
            raise Invalid("scale must be a positive finite number", "scale 必须是有限的正数")
        if self.unit is not None:
            unit_scale(self.unit)  # a ValueError names the unit
        if self.locale is not None:
            decimal_mark(self.locale)
        return self

    def reading(self, locale: str | None) -> Reading:
        """How this input's native values are read (``locale``: the mapping's own)."""
        scale = unit_scale(self.unit) if self.unit is not None else self.scale
        own = self.locale or locale
        return Reading(
            scale=None if scale == 1 else scale,
            decimal=None if own is None else decimal_mark(own),
            date_format=self.date_format,
        )


class OutputRule(_Strict):
    """The native field one canonical output is written to.

    Without ``field`` the field is found by its label (English or Chinese): for a CRM whose
    console generates API names (Fxiaoke's ``field_xxxxx__c``), where the admin creates the
    field by hand and crmqual resolves it through describe.
    """

    field: str | None = Field(default=None, min_length=1)
    type: FieldType
    label: Text
    #: For codes (status, grade, terms, flags): write the code or a label.
    values: Literal["code", "en", "zh"] = "code"
    #: For reasons: which language's texts are written.
    language: Literal["en", "zh", "both"] = "en"
    length: int | None = None

    @property
    def native(self) -> str:
        """The native field's name; before a field named by label is found, the label in
        brackets (a dry run shows it so; a sync refuses to start: the field is missing)."""
        return self.field or f"[{self.label.en}]"


class FilterSpec(_Strict):
    field: str
    op: Literal["equals", "not_equals", "in"] = "equals"
    values: list[str] = Field(min_length=1)


_CODED = ("status", "grade", "payment_terms", "flags")
_REQUIRED_OUTPUTS = ("status", "grade", "score", "flags", "reasons", "assessed_at")


class OutcomeSource(_Strict):
    """Where the CRM keeps what happened to an account (``crmqual outcomes read``): a field
    holding an outcome word (defaulted, 违约, 90+, written_off, paid_as_agreed ...) and,
    optionally, the date field it happened on (else the day it is read)."""

    field: str
    date_field: str | None = None


class Mapping(_Strict):
    crm: str
    object: str
    id_field: str
    modified_field: str
    filters: list[FilterSpec] = []
    override_field: str | None = None
    #: The CRM field of each account's outcome, for the policy lab (optional).
    outcomes: OutcomeSource | None = None
    #: How separators are read where they are ambiguous (1,234 / 1.234), for every input
    #: that does not declare its own: en, zh, ja (1,234.5), de, fr, ru (1.234,5)...
    locale: str | None = None
    inputs: dict[str, InputRule]
    outputs: dict[str, OutputRule]

    @model_validator(mode="after")
    def _known_names(self) -> Mapping:
        problems: list[tuple[str, str]] = []
        unknown = ", ".join(name for name in self.inputs if name not in ACCOUNT_FIELDS)
        if unknown:
            problems.append(
                (
                    f"inputs: not fields of the common model: {unknown}",
                    f"inputs：不是通用模型的字段：{unknown}",
                )
            )
        if "id" in self.inputs:
            problems.append(
                (
                    "inputs: id comes from id_field, do not map it",
                    "inputs：id 来自 id_field，不要映射它",
                )
            )
        bad = ", ".join(name for name in self.outputs if name not in OUTPUT_NAMES)
        if bad:
            problems.append(
                (f"outputs: not outputs of crmqual: {bad}", f"outputs：不是 crmqual 的输出：{bad}")
            )
        missing = ", ".join(name for name in _REQUIRED_OUTPUTS if name not in self.outputs)
        if missing:
            problems.append((f"outputs: must include {missing}", f"outputs：必须包含 {missing}"))
        fields = [rule.field for rule in self.outputs.values() if rule.field]
        if len(fields) != len(set(fields)):
            problems.append(
                (
                    "outputs: each output needs its own native field",
                    "outputs：每个输出需要自己的字段",
                )
            )
        read = {r.field.split(".")[0] for r in self.inputs.values() if r.field}
        clash = ", ".join(sorted(read & set(fields)))
        if clash:
            problems.append(
                (
                    f"outputs: fields also read as inputs: {clash}",
                    f"outputs：这些字段同时被当作输入读取：{clash}",
                )
            )
        if self.locale is not None:
            try:
                decimal_mark(self.locale)
            except ValueError as exc:
                problems.append((f"locale: {exc}", f"locale：{getattr(exc, 'zh', exc)}"))
        if problems:
            raise Invalid("; ".join(en for en, _ in problems), "；".join(zh for _, zh in problems))
        return self

    @cached_property
    def compiled(self) -> CompiledMapping:
        """This mapping prepared for the per-record functions below, once per object."""
        return CompiledMapping(self)

    @cached_property
    def input_paths(self) -> tuple[tuple[str, tuple[str, ...], InputRule], ...]:
        """Each input with its native path split once (``Owner.name`` -> ``("Owner",
        "name")``; empty for a constant): what `native_row` walks for every record."""
        return tuple(
            (name, tuple(rule.field.split(".")) if rule.field else (), rule)
            for name, rule in self.inputs.items()
        )

    @cached_property
    def readings(self) -> dict[str, Reading]:
        """How each input's native values are read."""
        return {name: rule.reading(self.locale) for name, rule in self.inputs.items()}

    @cached_property
    def sources(self) -> dict[str, str]:
        """Model field -> the native field it comes from, for naming it in messages."""
        return native_field_names(self) | {"id": self.id_field}

    @cached_property
    def hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @cached_property
    def filter_rules(self) -> tuple[FilterRule, ...]:
        return tuple(FilterRule(f.field, f.op, tuple(f.values)) for f in self.filters)

    @cached_property
    def output_fields(self) -> tuple[str, ...]:
        """The native output fields known by name (those found by label once resolved)."""
        return tuple(rule.field for rule in self.outputs.values() if rule.field)

    @cached_property
    def by_label(self) -> tuple[str, ...]:
        """Outputs whose native field is still to be found by its label."""
        return tuple(name for name, rule in self.outputs.items() if rule.field is None)

    @cached_property
    def inputs_by_label(self) -> tuple[str, ...]:
        """Inputs whose native field is still to be found by its label."""
        return tuple(n for n, r in self.inputs.items() if r.field is None and r.label is not None)

    def with_fields(
        self, fields: dict[str, str], source: str, inputs: dict[str, str] | None = None
    ) -> Mapping:
        """This mapping with the native fields of some outputs (and inputs) filled in (found
        by label)."""
        data = self.model_dump(mode="json")
        for name, api_name in fields.items():
            data["outputs"][name]["field"] = api_name
        for name, api_name in (inputs or {}).items():
            data["inputs"][name]["field"] = api_name
        return validate(Mapping, data, source)

    @cached_property
    def read_fields(self) -> tuple[str, ...]:
        """Every native field a read needs: id, modified, inputs, override, outputs."""
        wanted = [self.id_field, self.modified_field]
        wanted += [r.field.split(".")[0] for r in self.inputs.values() if r.field]
        wanted += [f.field for f in self.filters]
        if self.override_field:
            wanted.append(self.override_field)
        wanted += list(self.output_fields)
        return tuple(dict.fromkeys(wanted))


def load_mapping(path: str | Path | None = None, crm: str = "file") -> tuple[Mapping, str]:
    """(mapping, its source name); ``None`` loads the mapping shipped for ``crm``."""
    if path is None:
        resource = registry.plugin(crm).mapping
        if resource is None or not resource.is_file():
            raise ConfigError(
                [
                    Problem(
                        "mapping",
                        "",
                        f"no mapping ships for crm {crm!r}: set `mapping:`",
                        zh=f"crmqual 没有为 {crm!r} 附带映射：请设置 `mapping:`",
                    )
                ]
            )
        source = f"mappings/{resource.name}"
        with resources.as_file(resource) as shipped:
            return validate(Mapping, read_yaml(shipped), source), source
    return validate(Mapping, read_yaml(path), str(path)), str(path)


def check_fields(
    mapping: Mapping, described: MappingABC[str, FieldSpec], source: str
) -> tuple[list[Problem], list[str]]:
    """(problems, output fields missing) against the CRM's described fields."""
    problems = []

    def need(key: str, name: str) -> None:
        if name not in described:
            problems.append(
                Problem(
                    source,
                    key,
                    f"no field {name!r} in {mapping.object}",
                    zh=f"{mapping.object} 中没有字段 {name!r}",
                )
            )

    need("id_field", mapping.id_field)
    need("modified_field", mapping.modified_field)
    for model_field, rule in mapping.inputs.items():
        if rule.field and not rule.optional:
            need(f"inputs.{model_field}.field", rule.field.split(".")[0])
    for i, f in enumerate(mapping.filters):
        need(f"filters.{i}.field", f.field)
    if mapping.override_field:
        need("override_field", mapping.override_field)
    missing = []
    for name, out in mapping.outputs.items():
        if out.field is None:
            missing.append(out.native)
            continue
        have = described.get(out.field)
        if have is None:
            missing.append(out.field)
        elif have.type != out.type:
            problems.append(
                Problem(
                    source,
                    f"outputs.{name}.field",
                    f"{out.field} exists as {have.type.value}, the mapping needs {out.type.value}",
                    zh=f"{out.field} 已存在，类型为 {have.type.value}，映射需要 {out.type.value}",
                )
            )
    return problems, missing


# -- native -> model ------------------------------------------------------------------------


def _at(record: MappingABC[str, Any], parts: tuple[str, ...]) -> Any:
    if len(parts) == 1:  # most fields: no lookup to walk into
        return record.get(parts[0])
    value: Any = record
    for part in parts:
        if not isinstance(value, MappingABC):
            return None
        value = value.get(part)
    return value


def native_row(
    mapping: Mapping, record: MappingABC[str, Any]
) -> tuple[dict[str, Any], tuple[Unreadable, ...]]:
    """A native record as a flat row of raw values by model field (constants, defaults and
    ``map:`` applied), and the values ``map:`` does not know. Values are read afterwards,
    by ``crmqual.values`` (``read_account``), as for a file.

    What the input side of a mapping means, rule by rule; ``read_record`` does the same
    compiled (``crmqual.compiled_mapping``), and is tested against this."""
    row: dict[str, Any] = {"id": record.get(mapping.id_field)}
    unmapped = []
    for name, parts, rule in mapping.input_paths:
        if not parts:
            row[name] = rule.const
            continue
        value = _at(record, parts)
        if value is None or value == "" or value == []:
            if rule.default is not None:
                row[name] = rule.default
            continue
        if rule.map is not None:
            key = str(value)
            if key not in rule.map:
                why = f"not one of the mapped values {sorted(rule.map)}"
                unmapped.append(Unreadable(name, ".".join(parts), shown(value), why))
                continue
            value = rule.map[key]
        row[name] = value
    return row, tuple(unmapped)


def read_record(
    mapping: Mapping, record: MappingABC[str, Any], today: date, needed: Collection[str] = ()
) -> tuple[Account, tuple[Unreadable, ...]]:
    """A native record as an Account, and the inputs that could not be read (left missing).

    Raises ``RecordProblems`` naming each native field at fault when the record cannot be
    assessed: no id, an unreadable value in ``needed`` (the policy's knock-out inputs), an
    impossible value.
    """
    return mapping.compiled.read(record, today, needed)


def native_field_names(mapping: Mapping) -> dict[str, str]:
    """Model field -> native field, for naming a validation error after what the admin sees."""
    return {name: rule.field for name, rule in mapping.inputs.items() if rule.field}


def is_overridden(mapping: Mapping, record: MappingABC[str, Any]) -> bool:
    """Has a person set the manual-override field? (Any value but empty, false or 0.)"""
    if not mapping.override_field:
        return False
    value = record.get(mapping.override_field)
    return value not in (None, "", False, 0, "0", "false", "False", [])


# -- model -> native ------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """Code <-> label tables of a policy, for outputs written as labels."""

    en: dict[str, dict[str, str]]
    zh: dict[str, dict[str, str]]

    @classmethod
    def of(cls, policy: Policy) -> Labels:
        tables: dict[str, dict[str, Text]] = {
            "status": {str(code): text for code, text in policy.statuses.items()},
            "grade": {g.grade: g.label for g in policy.grades},
            "payment_terms": {t.code: t.label for t in policy.payment_terms},
            "flags": {f.code: f.label for f in policy.flags},
        }
        return cls(
            en={k: {c: t.en for c, t in v.items()} for k, v in tables.items()},
            zh={k: {c: t.zh for c, t in v.items()} for k, v in tables.items()},
        )

    def write(self, output: str, rule: OutputRule, code: str) -> str:
        if rule.values == "code":
            return code
        table = self.en if rule.values == "en" else self.zh
        label = table[output].get(code, code)
        return f"{code} – {label}" if output == "grade" else label

    def read(self, output: str, rule: OutputRule, text: str) -> str:
        if rule.values == "code":
            return text
        table = self.en if rule.values == "en" else self.zh
        back = {self.write(output, rule, code): code for code in table[output]}
        return back.get(text, text)


def picklist_values(policy: Policy, output: str, rule: OutputRule) -> tuple[str, ...]:
    labels = Labels.of(policy)
    by_output: dict[str, list[str]] = {
        "status": [str(code) for code in policy.statuses],
        "grade": list(GRADES),
        "payment_terms": [t.code for t in policy.payment_terms],
        "flags": [f.code for f in policy.flags],
    }
    codes = by_output.get(output, [])
    return tuple(labels.write(output, rule, c) for c in codes)


def wanted_fields(mapping: Mapping, policy: Policy) -> list[FieldSpec]:
    """The output fields crmqual needs in the CRM, with the picklist values the policy uses."""
    specs = []
    for name, rule in mapping.outputs.items():
        values: tuple[str, ...] = ()
        if rule.type in (FieldType.PICKLIST, FieldType.MULTISELECT):
            values = picklist_values(policy, name, rule)
        api_name = rule.field or ""  # "": the CRM will name it (found by label afterwards)
        specs.append(
            FieldSpec(api_name, rule.type, rule.label.en, values, rule.label.zh, rule.length)
        )
    return specs


def resolve_output_fields(
    adapter: Adapter, mapping: Mapping, source: str
) -> tuple[Mapping, dict[str, str]]:
    """The mapping with its outputs (and inputs) named by label found in the CRM, and the
    outputs found.

    Only a CRM that cannot create fields through its API names them itself; for one that
    can, every output needs its ``field:`` (crmqual creates it under that name). Inputs
    named by label are found whatever the CRM (one describe serves both).
    """
    described: dict[str, FieldSpec] | None = None
    if mapping.inputs_by_label:
        described = adapter.describe()
        mapping = resolve_input_labels(mapping, described, source)
    if not mapping.by_label:
        return mapping, {}
    if StepKind.CREATE_FIELD in adapter.capabilities.provisioning:
        raise ConfigError(
            [
                Problem(
                    source,
                    f"outputs.{name}.field",
                    f"required: {adapter.name} fields are created under the name given here",
                    zh=f"必填：{adapter.name} 的字段按此处给出的名称创建",
                )
                for name in mapping.by_label
            ]
        )
    if described is None:
        described = adapter.describe()
    resolved, found, problems = resolve_labels(mapping, described, source)
    if problems:
        raise ConfigError(problems)
    return resolved, found


def _label_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _carriers(described: MappingABC[str, FieldSpec]) -> dict[str, list[str]]:
    """Each label (English or Chinese, normalised) -> the fields that carry it."""
    carriers: dict[str, list[str]] = {}
    for api_name, spec in described.items():
        for text in dict.fromkeys(filter(None, (spec.label, spec.label_zh))):
            carriers.setdefault(_label_key(text), []).append(api_name)
    return carriers


def resolve_input_labels(
    mapping: Mapping, described: MappingABC[str, FieldSpec], source: str
) -> Mapping:
    """The mapping with its inputs named by label found among the described fields; a label
    no field or several fields carry fails (ConfigError naming the input), unless the input
    is optional and no field carries it (then it stays missing)."""
    carriers = _carriers(described)
    found: dict[str, str] = {}
    problems = []
    for name in mapping.inputs_by_label:
        rule = mapping.inputs[name]
        label = rule.label or ""
        names = carriers.get(_label_key(label), [])
        if len(names) == 1:
            found[name] = names[0]
        elif len(names) > 1:
            problems.append(
                Problem(
                    source,
                    f"inputs.{name}.label",
                    f"several fields carry the label “{label}”: {', '.join(names)}; "
                    "name the right one with field:",
                    zh=f"多个字段带有标签“{label}”：{', '.join(names)}；请用 field: 指明正确的那个",
                )
            )
        elif not rule.optional:
            problems.append(
                Problem(
                    source,
                    f"inputs.{name}.label",
                    f"no field labelled “{label}” in {mapping.object}: correct the label, or "
                    "mark the input optional: true",
                    zh=f"{mapping.object} 中没有标签为“{label}”的字段：请改正标签，"
                    "或把该输入标为 optional: true",
                )
            )
    if problems:
        raise ConfigError(problems)
    return mapping.with_fields({}, source, found) if found else mapping


def resolve_labels(
    mapping: Mapping, described: MappingABC[str, FieldSpec], source: str
) -> tuple[Mapping, dict[str, str], list[Problem]]:
    """Find the outputs named by label among the described fields.

    (the mapping with those found filled in, {output: api name} found, problems): a label
    carried by several fields is a problem (name the field with ``field:``); a label not
    found is no problem here, it stays missing (``crmqual provision`` lists it for the
    admin to create). Types are checked afterwards like any output's (``check_fields``).
    """
    carriers = _carriers(described)
    found: dict[str, str] = {}
    problems = []
    for name in mapping.by_label:
        label = mapping.outputs[name].label
        names = list(
            dict.fromkeys(a for t in (label.zh, label.en) for a in carriers.get(_label_key(t), []))
        )
        if len(names) > 1:
            problems.append(
                Problem(
                    source,
                    f"outputs.{name}.label",
                    f"several fields carry the label “{label.en}” / “{label.zh}”: "
                    f"{', '.join(names)}; name the right one with field:",
                    zh=f"多个字段带有标签“{label.en}”/“{label.zh}”：{', '.join(names)}；"
                    "请用 field: 指明正确的那个",
                )
            )
        elif names:
            found[name] = names[0]
    return (mapping.with_fields(found, source) if found else mapping), found, problems


def to_native(mapping: Mapping, labels: Labels, a: Assessment) -> dict[str, Any]:
    """The assessment's outputs as values of the mapping's native output fields."""
    return mapping.compiled.to_native(labels, a)


def outputs_of(mapping: Mapping, record: MappingABC[str, Any]) -> dict[str, Any]:
    """The current values of crmqual's output fields in a native record."""
    return mapping.compiled.outputs_of(record)


def changed_fields(
    mapping: Mapping, new: MappingABC[str, Any], current: MappingABC[str, Any]
) -> list[str]:
    """Native output fields whose new value differs from the current one (compared as
    ``crmqual.compiled_mapping.NORMALISERS`` says for the field's type)."""
    return mapping.compiled.changed_fields(new, current)


def assessed_at_field(mapping: Mapping) -> str:
    return mapping.outputs["assessed_at"].native


def previous_outputs(
    mapping: Mapping, labels: Labels, record: MappingABC[str, Any]
) -> dict[str, Any] | None:
    """Canonical outputs rebuilt from the CRM's current values (when the state has none)."""
    rules = mapping.outputs
    stamp = record.get(rules["assessed_at"].native)
    grade = record.get(rules["grade"].native)
    if not stamp or not grade:
        return None
    try:
        assessed_at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    raw_flags = record.get(rules["flags"].native) or []
    if isinstance(raw_flags, str):
        raw_flags = [f for f in raw_flags.split(LIST_SEPARATOR) if f.strip()]
    return {
        "grade": labels.read("grade", rules["grade"], str(grade))[:1],
        "flags": [labels.read("flags", rules["flags"], str(f).strip()) for f in raw_flags],
        "assessed_at": assessed_at.isoformat(),
    }
