"""``crmqual check`` for Salesforce: what can be proven by reading, writing nothing.

- **login**: the configured flow logs in (the session is then used for everything else);
- **API usage**: the org's daily API requests left (``limits/`` ``DailyApiRequests``, else
  the ``Sforce-Limit-Info`` of the answers), failed (exit 5) at or below ``api_reserve``;
- **read access**: every mapped input field is readable by the integration user (describe
  shows only those field-level security grants it); a field that exists but is hidden is
  told apart from one that does not exist (the Tooling API sees both);
- **edit access**: each output field that exists is updateable by the integration user;
- **permission set**: crmqual's two sets, their field permissions and assignments;
- **layout**: crmqual's section on the Account layouts chosen.

Nothing raises: every finding is an item, with its detail in English and Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmqual.adapters.layout_choice import chosen
from crmqual.adapters.salesforce import layouts
from crmqual.adapters.salesforce.describe import field_specs
from crmqual.adapters.salesforce.metadata import FieldMetadata, custom
from crmqual.contract import (
    CheckReport,
    CheckStatus,
    FieldSpec,
    FieldType,
    MappingItems,
    field_items,
)
from crmqual.errors import CrmqualError, ErrorKind

if TYPE_CHECKING:
    from crmqual.adapters.salesforce.admin import SalesforceAdmin

_PROVISION = "by `crmqual provision`"
_PROVISION_ZH = "由 `crmqual provision` 完成"


def run_check(
    admin: SalesforceAdmin,
    fields: Sequence[str],
    outputs: Sequence[str],
    mapping_items: MappingItems | None = None,
) -> CheckReport:
    report = CheckReport()
    c = admin.connection
    try:
        sf = admin.sf
    except CrmqualError as exc:
        report.add("login", CheckStatus.FAILED, str(exc), zh=exc.zh)
        for what in ("API usage", "read access", "output fields"):
            report.add(what, CheckStatus.UNVERIFIED, "the login failed", zh="登录失败")
        return report
    user = c.admin.access.integration_user or c.username or "the run-as user"
    report.add(
        "login",
        CheckStatus.OK,
        f"{c.flow.value} flow: logged in as {user} at {sf.sf_instance}",
        zh=f"{c.flow.value} 方式：已以 {user} 登录 {sf.sf_instance}",
    )
    raw: dict[str, dict[str, Any]] = {}
    if not _step(report, "read access", lambda: raw.update(_describe(admin))):
        return report
    _usage(report, admin)
    described = field_specs(raw.values())
    if mapping_items is None:
        report.items += field_items(fields, outputs, described, admin.object_name)
    else:
        report.items += mapping_items(described)
    existing: dict[str, Any] = {}
    names = [n for n in dict.fromkeys([*fields, *outputs]) if custom(n)]
    if not _step(report, "output fields", lambda: existing.update(_tooling(admin, names))):
        return report
    _read_access(report, fields, outputs, raw, existing, admin.object_name)
    _edit_access(report, outputs, raw, existing)
    specs = [FieldSpec(n, FieldType.TEXT, n) for n in dict.fromkeys(outputs) if n in existing]
    _step(report, "permission set", lambda: _permission_sets(report, admin, specs))
    if c.admin.layouts.place:
        _step(report, "layout", lambda: _layouts(report, admin, outputs))
    return report


def _describe(admin: SalesforceAdmin) -> dict[str, dict[str, Any]]:
    answer = getattr(admin.sf, admin.object_name).describe()
    return {str(f["name"]): f for f in answer.get("fields", [])}


def _tooling(admin: SalesforceAdmin, names: Sequence[str]) -> dict[str, Any]:
    return dict(FieldMetadata(admin.sf, admin.object_name).existing(names))


def _step(report: CheckReport, item: str, call: Callable[[], None]) -> bool:
    try:
        call()
    except CrmqualError as exc:
        report.add(item, CheckStatus.FAILED, str(exc), exc.kind, zh=exc.zh or str(exc))
        return False
    return True


def _usage(report: CheckReport, admin: SalesforceAdmin) -> None:
    """The daily allowance left: ``limits/`` (needs "View Setup and Configuration"), else
    the ``Sforce-Limit-Info`` of the describe just made."""
    reserve = admin.connection.api_reserve
    left: tuple[int, int] | None = None
    source = "limits/ DailyApiRequests"
    try:
        daily = admin.sf.limits().get("DailyApiRequests") or {}
        left = int(daily["Remaining"]), int(daily["Max"])
    except (CrmqualError, KeyError, TypeError, ValueError):
        remaining, usage = admin.org.remaining, admin.org.usage
        if remaining is not None and usage is not None:
            left, source = (remaining, usage[1]), "Sforce-Limit-Info"
    if left is None:
        report.add(
            "API usage",
            CheckStatus.UNVERIFIED,
            "Salesforce reported no API usage",
            zh="Salesforce 没有报告 API 用量",
        )
        return
    remaining, allowance = left
    if remaining <= reserve:
        report.add(
            "API usage",
            CheckStatus.FAILED,
            f"{remaining:,} of {allowance:,} daily API requests left ({source}), at or below "
            f"connection.api_reserve ({reserve:,}): a sync would stop at once; wait for the "
            "rolling 24 hours to free some, or lower the reserve",
            ErrorKind.QUOTA,
            zh=f"每日 API 请求剩余 {remaining:,}/{allowance:,}（{source}），已达到或低于 "
            f"connection.api_reserve（{reserve:,}）：同步会立即停止；请等待滚动 24 小时释放"
            "额度，或调低保留量",
        )
        return
    report.add(
        "API usage",
        CheckStatus.OK,
        f"{remaining:,} of {allowance:,} daily API requests left ({source}); "
        f"{reserve:,} kept in reserve",
        zh=f"每日 API 请求剩余 {remaining:,}/{allowance:,}（{source}）；保留 {reserve:,}",
    )


def _read_access(
    report: CheckReport,
    fields: Sequence[str],
    outputs: Sequence[str],
    raw: Mapping[str, Any],
    existing: Mapping[str, Any],
    sobject: str,
) -> None:
    inputs = [n for n in dict.fromkeys(fields) if n not in outputs]
    hidden = [n for n in inputs if n not in raw and n in existing]
    for name in hidden:
        report.add(
            f"read access {name}",
            CheckStatus.FAILED,
            f"{sobject}.{name} exists but the integration user cannot read it (field-level "
            "security): grant Read on it in a permission set assigned to that user",
            zh=f"{sobject}.{name} 存在，但集成用户无权读取（字段级安全）：请在分配给该用户的"
            "权限集中授予读取权限",
        )
    readable = sum(1 for n in inputs if n in raw)
    if readable:
        report.add(
            "read access",
            CheckStatus.OK,
            f"{readable} mapped field(s) readable by the integration user",
            zh=f"集成用户可读取 {readable} 个映射字段",
        )


def _edit_access(
    report: CheckReport, outputs: Sequence[str], raw: Mapping[str, Any], existing: Mapping[str, Any]
) -> None:
    for name in dict.fromkeys(outputs):
        if name not in existing:
            continue  # the mapping's items say it is to be created
        if raw.get(name, {}).get("updateable"):
            report.add(f"edit access {name}", CheckStatus.OK)
            continue
        report.add(
            f"edit access {name}",
            CheckStatus.FAILED,
            "the field exists but the integration user cannot edit it: run `crmqual "
            "provision` (it grants Read and Edit through a permission set)",
            zh="字段存在，但集成用户无权编辑：请运行 `crmqual provision`（通过权限集授予读取和"
            "编辑权限）",
        )


def _permission_sets(report: CheckReport, admin: SalesforceAdmin, specs: list[FieldSpec]) -> None:
    settings = admin.connection.admin.access
    permission_sets = admin.permission_sets()
    for name in (settings.edit_permission_set, settings.read_permission_set):
        found = permission_sets.state(name)
        item = f"permission set {name}"
        if not found.id:
            report.add(item, CheckStatus.TO_CREATE, _PROVISION, ErrorKind.CONFIG, zh=_PROVISION_ZH)
            continue
        granted = sum(
            1 for s in specs if f"{admin.object_name}.{s.api_name}".lower() in found.grants
        )
        users = len(found.assignees)
        detail = f"grants {granted} of {len(specs)} output field(s), assigned to {users} user(s)"
        zh = f"授权 {granted}/{len(specs)} 个输出字段，已分配给 {users} 个用户"
        if users == 0 and name == settings.read_permission_set:
            report.add(
                item,
                CheckStatus.UNVERIFIED,
                detail + ": salespeople do not see the fields until it is assigned to them",
                ErrorKind.CONFIG,
                zh=zh + "：分配给销售人员之前，他们看不到这些字段",
            )
            continue
        report.add(item, CheckStatus.OK, detail, zh=zh)


def _layouts(report: CheckReport, admin: SalesforceAdmin, outputs: Sequence[str]) -> None:
    settings = admin.connection.admin.layouts
    found = layouts.read_layouts(admin.sf, admin.object_name)
    targets, unknown = chosen(found, settings.names)
    for name in unknown:
        report.add(
            f"layout {name}",
            CheckStatus.FAILED,
            f"admin.layouts.names: {admin.object_name} has no page layout {name!r}",
            ErrorKind.CONFIG,
            zh=f"admin.layouts.names：{admin.object_name} 没有名为 {name!r} 的页面布局",
        )
    for layout in targets:
        placed = layout.placed()
        on = sum(1 for n in dict.fromkeys(outputs) if n.lower() in placed)
        item = f"layout {layout.name}"
        if on < len(set(outputs)):
            report.add(
                item,
                CheckStatus.TO_CREATE,
                f"{on} of {len(set(outputs))} output field(s) on it; the rest {_PROVISION}",
                ErrorKind.CONFIG,
                zh=f"其上有 {on}/{len(set(outputs))} 个输出字段；其余{_PROVISION_ZH}",
            )
        else:
            report.add(
                item,
                CheckStatus.OK,
                f"all {on} output fields on it",
                zh=f"全部 {on} 个输出字段都在其上",
            )
