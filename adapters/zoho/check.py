"""``crmqual check`` for Zoho: prove the credentials and, by read calls, the read scopes;
report the write scopes as unverified (proving them would mean writing); check that the
mapping's fields exist. Nothing is written and nothing raises: every finding is an item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.fields import ZohoField, describe
from crmqual.contract import CheckReport, CheckStatus, field_items
from crmqual.errors import AuthError, CrmqualError, ErrorKind


def _scopes(module: str) -> tuple[str, str, str, str]:
    read = f"ZohoCRM.modules.{module.lower()}.READ"
    update = f"ZohoCRM.modules.{module.lower()}.UPDATE"
    return read, update, "ZohoCRM.settings.fields.READ", "ZohoCRM.settings.fields.CREATE"


def run_check(
    api: ZohoApi, module: str, fields: Sequence[str], outputs: Sequence[str]
) -> CheckReport:
    report = CheckReport()
    read_scope, update_scope, fields_scope, create_scope = _scopes(module)
    try:
        api.tokens.headers()
    except CrmqualError as exc:
        report.add("credentials", CheckStatus.FAILED, str(exc), zh=exc.zh)
        for scope in (read_scope, fields_scope, update_scope, create_scope):
            report.add(
                f"scope {scope}", CheckStatus.UNVERIFIED, "credentials failed", zh="凭据未通过"
            )
        return report
    url = api.tokens.token_url
    report.add(
        "credentials",
        CheckStatus.OK,
        f"access token minted at {url}",
        zh=f"已在 {url} 取得访问令牌",
    )

    def list_one() -> None:
        api.call(
            "GET",
            f"/crm/v8/{module}",
            params={"fields": "Modified_Time", "per_page": 1},
            endpoint=f"GET /crm/v8/{module}",
        )

    _probe(report, read_scope, f"list {module}", list_one)
    described: dict[str, ZohoField] = {}

    def fetch_fields() -> None:
        described.update(describe(api, module))

    fields_ok = _probe(report, fields_scope, f"describe {module}", fetch_fields)
    report.add(
        f"scope {update_scope}",
        CheckStatus.UNVERIFIED,
        "needed to write grades back; cannot be proven without writing a record",
        zh="写回评级时需要；不写入记录就无法验证",
    )
    report.add(
        f"scope {create_scope}",
        CheckStatus.UNVERIFIED,
        "needed by `crmqual provision` only; cannot be proven without creating a field",
        zh="只有 `crmqual provision` 需要；不创建字段就无法验证",
    )
    if not fields_ok:
        report.add(
            "mapping fields",
            CheckStatus.UNVERIFIED,
            "the fields could not be described",
            ErrorKind.CONFIG,
            zh="无法读取字段定义",
        )
        return report
    report.items += field_items(fields, outputs, described, module)
    return report


def _probe(report: CheckReport, scope: str, what: str, call: Callable[[], None]) -> bool:
    try:
        call()
    except AuthError as exc:
        if exc.code == "OAUTH_SCOPE_MISMATCH":
            report.add(
                f"scope {scope}",
                CheckStatus.FAILED,
                f"missing: {what} was refused",
                zh=f"缺少此权限：{what} 被拒绝",
            )
        else:
            report.add(f"scope {scope}", CheckStatus.FAILED, str(exc), zh=exc.zh)
        return False
    except CrmqualError as exc:
        report.add(
            f"scope {scope}",
            CheckStatus.UNVERIFIED,
            f"{what} failed: {exc}",
            zh=f"{what} 失败：{exc.zh or exc}",
        )
        return False
    report.add(f"scope {scope}", CheckStatus.OK, f"{what} succeeded", zh=f"{what} 成功")
    return True
