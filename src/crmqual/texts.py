"""Every admin-facing label of the CLI, in English and Chinese, and how numbers read.

One catalogue of ``name: (en, zh)`` pairs and ``t(name, lang, **values)``; no gettext:
the texts are few, both languages ship inside, and a test scans ``--lang zh`` output for
the English side of every pair. Salesperson-facing texts (reasons, flag and status labels)
live in the policy, not here.

``pct`` and ``amount`` format numbers as admins read them: ratios as percentages with one
decimal (``82.9 %``), amounts with thousands separators, and in Chinese CNY amounts in
万 / 亿 (``2,409.5 万元``, ``2.41 亿元``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

LANGS = ("en", "zh")
LANG_ENV = "CRMQUAL_LANG"

CATALOGUE: dict[str, tuple[str, str]] = {
    # -- assess: table header and summary --------------------------------------------------
    "col.id": ("id", "编号"),
    "col.name": ("name", "名称"),
    "col.status": ("status", "状态"),
    "col.grade": ("grade", "评级"),
    "col.score": ("score", "评分"),
    "col.limit": ("limit", "额度"),
    "col.terms": ("terms", "账期"),
    "col.flags": ("flags", "预警"),
    "assess.summary": (
        "assessed {assessed} · failed {failed}",
        "已评估 {assessed} · 失败 {failed}",
    ),
    "assess.unreadable": (
        "unreadable values (assessed as missing): {fields}",
        "无法识别的值（按缺失评估）：{fields}",
    ),
    # -- explain ---------------------------------------------------------------------------
    "ex.account": ("Account", "客户"),
    "ex.policy": ("Policy {version}, as of {date}", "政策 {version}，评估日期 {date}"),
    "ex.status": ("Status", "状态"),
    "ex.grade": ("Grade", "评级"),
    "ex.score": ("Score", "评分"),
    "ex.completeness": ("data completeness", "数据完整度"),
    "ex.limit": ("Limit", "额度"),
    "ex.terms": ("terms", "账期"),
    "ex.scorecard": (
        "Scorecard (points 0-100 per indicator; weight = share of the whole score):",
        "评分卡（每项指标 0-100 分；权重 = 占总分的比例）：",
    ),
    "ex.normalised": (
        "the policy's weights add up to {total}, not 100: each is shown as its share",
        "政策权重合计 {total}，不是 100：以下按各自占比显示",
    ),
    "ex.dimension": (
        "weight {weight}, {points} points, adds {adds} to the score",
        "权重 {weight}，得分 {points}，为总分贡献 {adds}",
    ),
    "ex.points": ("points", "得分"),
    "ex.weight": ("weight", "权重"),
    "ex.missing": ("missing", "缺失"),
    "ex.rules": ("Admission rules that hold:", "命中的准入规则："),
    "ex.knockout": ("knock-out", "否决"),
    "ex.review": ("review", "人工审核"),
    "ex.condition": ("condition", "附加条件"),
    "ex.none": ("none", "无"),
    "ex.credit_limit": ("Credit limit:", "信用额度："),
    "ex.flags": ("Flags:", "预警："),
    "ex.reasons": ("Reasons:", "原因："),
    "ex.no_limit": ("none (needs review)", "无（需人工审核）"),
    "ex.prepayment": ("prepayment", "预付款"),
    "severity.low": ("low", "低"),
    "severity.medium": ("medium", "中"),
    "severity.high": ("high", "高"),
    # the steps of the credit limit (crmqual.engine.credit_limit's trace)
    "step.rule": ("rule", "规则"),
    "step.terms_days": ("payment term (days)", "账期天数"),
    "step.cap": ("cap for the grade", "评级上限"),
    "step.capacity_equity": ("capacity by equity", "按权益的承受能力"),
    "step.capacity_revenue": ("capacity by revenue", "按收入的承受能力"),
    "step.capacity_working_capital": ("capacity by working capital", "按营运资金的承受能力"),
    "step.need": ("need (monthly purchases × days / 30)", "需求（月采购额 × 天数 / 30）"),
    "step.requested": ("requested by the customer", "客户申请额度"),
    "step.limit": ("limit, rounded down", "核定额度（向下取整）"),
    "rule.rejected": ("rejected: prepayment", "拒绝准入：预付款"),
    "rule.no_currency": (
        "no currency on the account or its statements",
        "客户及其财报均无币种",
    ),
    "rule.prepayment_terms": ("payment terms are prepayment", "账期为预付款"),
    "rule.no_cap": ("no cap or rate for {currency}", "政策中无 {currency} 的上限或汇率"),
    "rule.no_rate": ("no rate from {source} to {target}", "政策中无 {source} 到 {target} 的汇率"),
    "rule.no_financials": ("no equity or revenue on file", "无权益或收入数据"),
    # -- check -----------------------------------------------------------------------------
    "check.heading": (
        "crmqual check: {crm} (target {target}), mapping {mapping}",
        "crmqual check：{crm}（目标 {target}），映射 {mapping}",
    ),
    "check.ok": ("ok", "通过"),
    "check.failed": ("failed", "失败"),
    "check.unverified": ("unverified", "未验证"),
    "check.to create": ("to create", "待创建"),
    "check.verdict.0": ("nothing failed", "没有失败项"),
    "check.verdict.2": ("the mapping's fields are not all there", "映射中的字段不全"),
    "check.verdict.3": ("the CRM or the credentials failed", "CRM 或凭据检查失败"),
    "check.item.field": ("field", "字段"),
    "check.item.output field": ("output field", "输出字段"),
    "check.item.mapping fields": ("mapping fields", "映射字段"),
    "check.item.output location": ("output location", "输出位置"),
    "check.item.connection": ("connection", "连接"),
    "check.item.credentials": ("credentials", "凭据"),
    "check.item.read scope": ("read scope", "读取权限"),
    "check.item.write scope": ("write scope", "写入权限"),
    # -- Salesforce check items (issue 16, admin path) --
    "check.item.login": ("login", "登录"),
    "check.item.API usage": ("API usage", "API 用量"),
    "check.item.read access": ("read access", "读取权限"),
    "check.item.edit access": ("edit access", "编辑权限"),
    "check.item.output fields": ("output fields", "输出字段"),
    "check.item.permission set": ("permission set", "权限集"),
    "check.item.layout": ("layout", "布局"),
    "check.found_by_label": ("found by label {labels}", "按标签找到 {labels}"),
    "check.by_provision": ("by `crmqual provision`", "由 `crmqual provision` 创建"),
    "check.by_hand": (
        "in the CRM's console: `crmqual provision` prints the list",
        "在 CRM 控制台中创建：`crmqual provision` 会列出清单",
    ),
    "check.inputs_present": (
        "every input field of {object} is present",
        "{object} 的输入字段齐全",
    ),
    # -- the next step, named at the end of each command -------------------------------------
    "next": ("next: {step}", "下一步：{step}"),
    "next.fix_check": (
        "fix what failed above, then run `crmqual check` again",
        "修正上面失败的项，然后再次运行 `crmqual check`",
    ),
    "next.provision": (
        "`crmqual provision --dry-run`, then `crmqual provision`",
        "`crmqual provision --dry-run`，然后 `crmqual provision`",
    ),
    "next.sync_dry": ("`crmqual sync --dry-run`", "`crmqual sync --dry-run`"),
    "next.sync": ("`crmqual sync` to write these changes", "`crmqual sync` 写入这些变更"),
    "next.provision_do": (
        "`crmqual provision` to make these changes",
        "`crmqual provision` 执行这些变更",
    ),
    # -- provision -------------------------------------------------------------------------
    "prov.would create": ("would create", "将创建"),
    "prov.created": ("created", "已创建"),
    "prov.would grant access to": ("would grant access to", "将授权访问"),
    "prov.granted access to": ("granted access to", "已授权访问"),
    "prov.would place on the page layout": ("would place on the page layout", "将放到页面布局"),
    "prov.placed on the page layout": ("placed on the page layout", "已放到页面布局"),
    "prov.would append": ("would append to {field}", "将追加到 {field}"),
    "prov.appended": ("appended to {field}", "已追加到 {field}"),
    "prov.up_to_date": ("up to date", "无需变更"),
    "prov.note": ("note: {note}", "注意：{note}"),
    "prov.would_remove": ("would remove", "将移除"),
    "prov.removed": ("removed", "已移除"),
    "prov.no_section": (
        "no layout has crmqual's section: nothing to remove",
        "没有布局带有 crmqual 的分区：无需移除",
    ),
    "prov.conflicts": ("conflicting fields, nothing was changed:", "字段冲突，未做任何变更："),
    # -- provision --remove --delete-fields (Salesforce admin path, issue 16) --
    "prov.delete_needs_remove": (
        "--delete-fields works with --remove only: crmqual provision --remove --delete-fields",
        "--delete-fields 只能与 --remove 一起使用：crmqual provision --remove --delete-fields",
    ),
    "prov.delete_confirm": (
        "Delete crmqual's output fields {fields} from {crm}, with every value they hold? "
        "This cannot be undone by crmqual",
        "要从 {crm} 删除 crmqual 的输出字段 {fields} 及其所有值吗？crmqual 无法撤销此操作",
    ),
    "prov.delete_declined": (
        "nothing was removed: the fields were not confirmed for deletion (add --yes to skip "
        "the question)",
        "未移除任何内容：没有确认删除字段（加 --yes 可跳过询问）",
    ),
    "prov.delete_unconfirmed": (
        "--delete-fields deletes {fields} and their values: add --yes to confirm (nothing "
        "was removed)",
        "--delete-fields 会删除 {fields} 及其值：请加 --yes 确认（未移除任何内容）",
    ),
    "prov.manual": (
        "to do by hand in {crm} (its API cannot), then run `crmqual check`:",
        "需在 {crm} 中手动完成（其 API 无法完成），然后运行 `crmqual check`：",
    ),
    # -- sync ------------------------------------------------------------------------------
    "sync.heading": (
        "crmqual sync: {status} ({mode}, {run})",
        "crmqual sync：{status}（{mode}，{run}）",
    ),
    "sync.run": ("run {id}", "第 {id} 次运行"),
    "sync.dry_run": ("dry run, nothing written", "试运行，未写入"),
    "sync.counts": (
        "read {read} · assessed {assessed} · changed {changed} · written {written}"
        " · failed {failed} · overridden {overridden} · warnings {warnings}",
        "读取 {read} · 评估 {assessed} · 变更 {changed} · 写入 {written}"
        " · 失败 {failed} · 人工覆盖 {overridden} · 警告 {warnings}",
    ),
    "sync.calls": ("API calls {calls} · {seconds} s", "API 调用 {calls} 次 · {seconds} 秒"),
    "sync.changes": ("changes: {kinds}", "变化：{kinds}"),
    "sync.unreadable": (
        "values that could not be read (assessed as missing): {fields}",
        "无法识别的值（按缺失评估）：{fields}",
    ),
    "sync.missing_fields": (
        "output fields missing, `crmqual provision` would create: {fields}",
        "缺少输出字段，`crmqual provision` 将创建：{fields}",
    ),
    "sync.would_change": ("would change:", "将变更："),
    "plan.nothing": ("nothing would change", "没有需要变更的记录"),
    "plan.heading": ("would change {n} account(s): {counts}", "将变更 {n} 个客户：{counts}"),
    "plan.more": (
        "… and {n} more (`--show N` lists more, `--json` all)",
        "……另有 {n} 个（`--show N` 列出更多，`--json` 列出全部）",
    ),
    "plan.also": ("also {kinds}", "同时：{kinds}"),
    "plan.empty": ("(empty)", "（空）"),
    "change.admission_failed": ("admission failed", "准入未通过"),
    "change.downgraded": ("downgraded", "降级"),
    "change.limit_cut": ("limit cut", "额度下调"),
    "change.new_high_flag": ("new high-severity flag", "新增高风险预警"),
    "change.data_missing_or_stale": ("data missing or stale", "数据缺失或过期"),
    "change.upgraded": ("upgraded", "升级"),
    "change.first_assessment": ("first assessment", "首次评估"),
    "change.other_change": ("other change", "其他变更"),
    "sync.progress": (
        "read {read} · assessed {assessed} · written {written} · failed {failed}",
        "读取 {read} · 评估 {assessed} · 写入 {written} · 失败 {failed}",
    ),
    "sync.quota": ("stopped at the API quota: {message}", "已达 API 配额，停止：{message}"),
    "error.record": ("error: record {id}: {problems}", "错误：记录 {id}：{problems}"),
    "error.more": ("error: ... {n} more", "错误：……另有 {n} 条"),
    "error.row": ("error: {reason}", "错误：{reason}"),
    # run statuses and modes (runs, sync, history)
    "run.ok": ("ok", "成功"),
    "run.succeeded": ("succeeded", "成功"),
    "run.failed": ("failed", "失败"),
    "run.partial": ("partial", "部分完成"),
    "run.running": ("running", "运行中"),
    "run.interrupted": ("interrupted", "中断"),
    "run.quota": ("quota", "配额用尽"),
    "run.dry_run": ("dry run", "试运行"),
    "run.locked": ("locked", "被锁定"),
    "run.written": ("written", "已写入"),
    "run.pending": ("pending", "待写入"),
    "run.reverted": ("reverted", "已撤销"),
    "run.incremental": ("incremental", "增量"),
    "run.full": ("full", "全量"),
    "run.sync": ("sync", "同步"),
    "run.revert": ("revert", "撤销"),
    "run.prune": ("prune", "清理"),
    # -- runs ------------------------------------------------------------------------------
    "runs.run": ("run", "运行"),
    "runs.started": ("started (UTC)", "开始（UTC）"),
    "runs.kind": ("kind", "类型"),
    "runs.status": ("status", "状态"),
    "runs.read": ("read", "读取"),
    "runs.written": ("written", "写入"),
    "runs.failed": ("failed", "失败"),
    "runs.note": ("note", "备注"),
    "runs.restored": ("restored", "已恢复"),
    "runs.deleted": ("deleted", "已删除"),
    "runs.none": (
        "no runs yet: `crmqual sync --dry-run`, then `crmqual sync`",
        "尚无运行记录：先 `crmqual sync --dry-run`，再 `crmqual sync`",
    ),
    "count.assessed": ("assessed", "评估"),
    "count.changed": ("changed", "变更"),
    "count.api_calls": ("api calls", "API 调用"),
    "count.overridden": ("overridden", "人工覆盖"),
    "count.warnings": ("warnings", "警告"),
    "count.skipped": ("skipped", "跳过"),
    "count.left_alone": ("left alone", "未改动"),
    "count.changed_since": ("changed since", "其后已变更"),
    "count.missing": ("not found", "未找到"),
    # -- history ---------------------------------------------------------------------------
    "hist.none": (
        "no assessments of {id} in the state store of {target}: check the id (the CRM's"
        " record id) and the configuration (-c)",
        "{target} 的状态库中没有 {id} 的评估：请检查编号（CRM 记录编号）和配置（-c）",
    ),
    "hist.line": (
        "{at} run {run} ({status}): {outputs}",
        "{at} 第 {run} 次运行（{status}）：{outputs}",
    ),
    "hist.outputs": (
        "grade {grade} score {score} status {outcome} limit {limit}  flags {flags}",
        "评级 {grade} 评分 {score} 状态 {outcome} 额度 {limit}  预警 {flags}",
    ),
    "hist.revert": (
        "{at} run {run} ({status}): revert of run {reverted}, put back:",
        "{at} 第 {run} 次运行（{status}）：撤销第 {reverted} 次运行，恢复：",
    ),
    "hist.before": ("(the values from before run {reverted})", "（第 {reverted} 次运行之前的值）"),
    "hist.as_assessed": ("as assessed {at}: {outputs}", "按 {at} 的评估：{outputs}"),
    "hist.left_alone": (
        "{at} run {run} left it alone: {reason}",
        "{at} 第 {run} 次运行未改动它：{reason}",
    ),
    "hist.inputs": ("inputs: {inputs}", "输入：{inputs}"),
    "hist.policy": ("policy {version}", "政策 {version}"),
    # -- revert ----------------------------------------------------------------------------
    "rev.would_restore": ("would restore", "将恢复"),
    "rev.restored_verb": ("restored", "已恢复"),
    "rev.left_alone": (
        "left alone (changed since run {run}): {id}",
        "未改动（第 {run} 次运行后已变更）：{id}",
    ),
    "rev.not_found": ("not found in the CRM: {id}", "CRM 中未找到：{id}"),
    "rev.error": ("error: record {id}: {code}: {message}", "错误：记录 {id}：{code}：{message}"),
    "rev.truncated": ("(the first {n} of each kind are listed)", "（每类只列出前 {n} 条）"),
    "rev.summary": (
        "{restored} record(s) {verb}, {left} left alone, {missing} not found, {failed} failed",
        "{restored} 条记录{verb}，{left} 条未改动，{missing} 条未找到，{failed} 条失败",
    ),
    "rev.to_restore": ("to restore", "待恢复"),
    # -- prune -----------------------------------------------------------------------------
    "prune.would": (
        "{count} assessment row(s) of runs started before {before} to delete",
        "{before} 之前开始的运行中有 {count} 条评估记录待删除",
    ),
    "prune.done": (
        "{count} assessment row(s) of runs started before {before} deleted",
        "已删除 {before} 之前开始的运行中的 {count} 条评估记录",
    ),
    # -- init ------------------------------------------------------------------------------
    "init.exists": ("{path} exists; use --force to overwrite it", "{path} 已存在；用 --force 覆盖"),
    "init.wrote": (
        "wrote {path}; edit it, then run `crmqual check -c {path}`",
        "已写入 {path}；编辑后运行 `crmqual check -c {path}`",
    ),
    # -- policy check ----------------------------------------------------------------------
    "pol.valid": ("{file}: valid, version {version}", "{file}：有效，版本 {version}"),
    "pol.weights_100": ("dimension weights add up to 100", "维度权重合计 100"),
    "pol.weights_off": (
        "warning: dimension weights add up to {total}, not 100; scores are normalised"
        " (each weight counts as its share of {total})",
        "警告：维度权重合计 {total}，不是 100；评分按比例归一化（每个权重按其占 {total} 的比例计）",
    ),
    "pol.problems": ("{n} problem(s):", "{n} 个问题："),
    # -- demo ------------------------------------------------------------------------------
    "demo.heading": (
        "crmqual demo: {n} companies in a local {crm} sandbox ({where})",
        "crmqual demo：本地 {crm} 沙箱中的 {n} 家企业（{where}）",
    ),
    "demo.provisioned": (
        "provisioned {n} output fields on the accounts",
        "已在客户对象上创建 {n} 个输出字段",
    ),
    "demo.no_adapter": (
        "crmqual demo --crm {crm}: crmqual has no {crm} adapter yet, so there is nothing to"
        " demonstrate; try --crm {others}",
        "crmqual demo --crm {crm}：crmqual 还没有 {crm} 适配器，无法演示；请改用 --crm {others}",
    ),
    "demo.needs_extra": (
        "crmqual demo --crm {crm} needs {modules}, which is not installed: install the"
        " {extra} extra (in this clone: .venv/bin/pip install '.[sandbox,{extra}]'; from"
        " PyPI: pip install 'crmqual[sandbox,{extra}]'), then run the demo again",
        "crmqual demo --crm {crm} 需要 {modules}，但它没有安装：请安装 {extra} 扩展（在本仓库中："
        ".venv/bin/pip install '.[sandbox,{extra}]'；从 PyPI：pip install"
        " 'crmqual[sandbox,{extra}]'），然后重新运行演示",
    ),
    "demo.layouts": (
        "salespeople see them on the account page layouts: {layouts}",
        "销售人员可在客户布局 {layouts} 上看到这些字段",
    ),
    "demo.first": ("first sync ", "第一次同步"),
    "demo.second": ("second sync", "第二次同步"),
    "demo.line": (
        "read {read} · written {written} · failed {failed} · warnings {warnings}"
        " · {calls} API calls · {seconds} s",
        "读取 {read} · 写入 {written} · 失败 {failed} · 警告 {warnings}"
        " · API 调用 {calls} 次 · {seconds} 秒",
    ),
    "demo.grades": (
        "Grades salespeople now see on the accounts:",
        "销售人员现在在客户上看到的评级：",
    ),
    "demo.riskiest": (
        "The riskiest accounts, with their flags and reasons:",
        "风险最高的客户及其预警和原因：",
    ),
    "demo.flags": ("flags: {flags}", "预警：{flags}"),
    "demo.state": (
        "State store: {path}  (runs: {first}, {second})",
        "状态库：{path}（运行：{first}，{second}）",
    ),
    "demo.sandbox": ("Sandbox:     {path}  (`{command}`)", "沙箱：{path}（`{command}`）"),
    "demo.no_status": ("none", "无"),
    # -- errors at the edge of the CLI (cli/errors.py) ----------------------------------------
    "err.prefix": ("Error: {message}", "错误：{message}"),
    "err.kind.config": (
        "The configuration, mapping, policy or input is not usable (exit 2)",
        "配置、映射、政策或输入文件无法使用（退出码 2）",
    ),
    "err.kind.crm_unavailable": (
        "The CRM could not be reached or refused the credentials: check the network, the "
        "`connection:` settings and the credentials, then run again (exit 3)",
        "无法连接 CRM，或 CRM 拒绝了凭据：请检查网络、`connection:` 设置和凭据，"
        "然后重新运行（退出码 3）",
    ),
    "err.kind.locked": (
        "Another run holds the lock: wait for it to finish, then run again (exit 4)",
        "另一个运行正持有锁：请等它结束后再运行（退出码 4）",
    ),
    "err.kind.quota": (
        "Stopped at the API quota: the state is saved, the next run goes on (exit 5)",
        "已达到 API 配额而停止：状态已保存，下次运行会接着做（退出码 5）",
    ),
    "err.kind.state_store": (
        "The state store failed (full disk, database server down): fix it and run again; "
        "nothing recorded is lost (exit 6)",
        "状态库出错（磁盘已满或数据库服务器不可用）：修复后重新运行，"
        "已记录的内容不会丢失（退出码 6）",
    ),
    "err.kind.records": (
        "Some records failed (exit 1)",
        "部分记录处理失败（退出码 1）",
    ),
    "err.details": ("details: {message}", "详情：{message}"),
    "err.usage_help": (
        "Run `{command} --help` for every option.",
        "运行 `{command} --help` 查看所有选项。",
    ),
    "err.no_such_option": ("no such option {option}", "没有选项 {option}"),
    "err.did_you_mean": ("; did you mean {options}?", "；是不是想用 {options}？"),
    "err.missing_param": ("{name} is missing", "缺少 {name}"),
    "err.bad_value": ("invalid value for {option}: {detail}", "{option} 的值无效：{detail}"),
    "err.usage": ("wrong usage: {detail}", "用法不对：{detail}"),
    "err.not_integer": ("{value} is not a whole number", "{value} 不是整数"),
    "err.not_number": ("{value} is not a number", "{value} 不是数字"),
    "err.out_of_range": (
        "{value} is out of range ({range})",
        "{value} 超出允许的范围（{range}）",
    ),
    "err.not_a_choice": (
        "{value} is not one of {choices}",
        "{value} 不是可选值之一：{choices}",
    ),
    "err.json_or_csv": ("choose one of --json and --csv", "--json 和 --csv 只能选一个"),
    "err.plan_options": (
        "--csv and --show go with --dry-run (the plan of a dry run)",
        "--csv 和 --show 只能与 --dry-run 一起用（试运行的计划）",
    ),
    "err.as_of": (
        "{option}: {text} is not an ISO date such as 2025-06-30",
        "{option}：{text} 不是 ISO 日期（例如 2025-06-30）",
    ),
    "err.locale": ("--locale: {reason}", "--locale：{reason}"),
    "err.no_account": (
        "no valid account with id {id} in {file}",
        "{file} 中没有编号为 {id} 的有效客户",
    ),
    "assess.unknown_column": (
        "warning: unknown column {column} ignored",
        "警告：忽略了不认识的列 {column}",
    ),
    "assess.row_error": ("error: {outcome}", "错误：{outcome}"),
    "demo.earlier": (
        "{dir} holds an earlier demo ({files}): add --fresh to delete it and start clean, "
        "or choose another --dir",
        "{dir} 中已有上一次的演示（{files}）：加 --fresh 删除后重新开始，或换一个 --dir",
    ),
    "secret.bad_name": (
        "{name} is not a name crmqual.yaml can refer to as ${{NAME}}: use letters, digits "
        "and _ (e.g. ZOHO_REFRESH_TOKEN)",
        "{name} 不能在 crmqual.yaml 中以 ${{NAME}} 引用：只能用字母、数字和 _"
        "（例如 ZOHO_REFRESH_TOKEN）",
    ),
    "secret.no_value": (
        "no value given for {name}; nothing was stored",
        "没有给出 {name} 的值；什么都没有保存",
    ),
    "secret.stored": (
        "stored {name} in the OS keyring; crmqual.yaml can use ${{{name}}}",
        "已把 {name} 存入操作系统密钥环；crmqual.yaml 可以用 ${{{name}}} 引用",
    ),
    "secret.not_there": (
        "{name} is not in the OS keyring; nothing was removed",
        "操作系统密钥环中没有 {name}；什么都没有删除",
    ),
    "secret.removed": ("removed {name} from the OS keyring", "已从操作系统密钥环删除 {name}"),
    "sandbox.missing": (
        "crmqual {command} needs the sandbox extra ({missing} not installed): "
        "pip install 'crmqual[sandbox]'",
        "crmqual {command} 需要 sandbox 附加组件（未安装 {missing}）："
        "pip install 'crmqual[sandbox]'",
    ),
    # -- policy lab (issue 19): policy diff, outcomes, policy backtest ------------------------
    "lab.diff_heading": (
        "Policy diff: {old} -> {new}, {accounts} accounts as of {date} ({source})",
        "政策对比：{old} -> {new}，{accounts} 个客户，评估日期 {date}（{source}）",
    ),
    "lab.source_state": (
        "latest inputs in the state store of {target}",
        "{target} 状态库中的最新输入",
    ),
    "lab.source_file": ("file {file}", "文件 {file}"),
    "lab.source_crm": ("a fresh read of {target}", "刚刚从 {target} 读取的客户"),
    "lab.no_outcome_field": (
        "{mapping} names no outcome field: add `outcomes: {{field: NAME, date_field: NAME}}`",
        "{mapping} 没有指定结果字段：请添加 `outcomes: {{field: 字段名, date_field: 字段名}}`",
    ),
    "lab.out_bad_record": ("record {id}: {why}", "记录 {id}：{why}"),
    "lab.out_read": (
        "read from the CRM: {added} outcomes recorded, {known} already recorded, "
        "{bad} records not read",
        "从 CRM 读取：记录了 {added} 个结果，{known} 个已记录过，{bad} 条记录无法读取",
    ),
    "lab.read_or_input": ("choose one of --read and --input", "--read 和 --input 只能选一个"),
    "lab.changed": (
        "Changed: {n} accounts (status, grade, limit or payment terms)",
        "有变化：{n} 个客户（状态、评级、额度或账期）",
    ),
    "lab.no_change": ("No account changes.", "没有客户发生变化。"),
    "lab.migration": (
        "Grade migration (rows: old grade, columns: new grade)",
        "评级迁移（行：原评级，列：新评级）",
    ),
    "lab.migration_exposure": (
        "Exposure by grade migration, {currency}",
        "按评级迁移的敞口，{currency}",
    ),
    "lab.admission": ("Admission changes:", "准入变化："),
    "lab.limits": ("Credit limits per currency:", "各币种信用额度："),
    "lab.limits_line": (
        "{currency}: before {before}, after {after}; raised on {raised} accounts (+{raised_by}),"
        " cut on {cut} (-{cut_by}); no limit before {none_before}, after {none_after}",
        "{currency}：调整前 {before}，调整后 {after}；{raised} 个客户提高（+{raised_by}），"
        "{cut} 个降低（-{cut_by}）；无额度：调整前 {none_before}，调整后 {none_after}",
    ),
    "lab.terms": ("Payment terms changed:", "账期变化："),
    "lab.flags": ("Warning flags:", "预警变化："),
    "lab.flag_line": (
        "{flag}: appears on {appear}, vanishes from {vanish}",
        "{flag}：新增 {appear} 个，消失 {vanish} 个",
    ),
    "lab.most_affected": (
        "Most affected accounts (up to {n}), with their reasons under each policy:",
        "受影响最大的客户（最多 {n} 个）及两种政策下的原因：",
    ),
    "lab.old": ("old", "原"),
    "lab.new": ("new", "新"),
    "lab.not_read": ("error: {where}: {why} (left out)", "错误：{where}：{why}（已跳过）"),
    "lab.at_line": ("line {line} (id {id})", "第 {line} 行（编号 {id}）"),
    "lab.record": ("record {id}", "记录 {id}"),
    "lab.skipped": (
        "warning: {id}: stored inputs no longer valid, left out: {why}",
        "警告：{id}：存储的输入已无效，已跳过：{why}",
    ),
    "lab.empty_store": (
        "no written assessments of {target} in the state store: run `crmqual sync` first,"
        " or compare on a file with --input",
        "状态库中没有 {target} 的已写入评估：请先运行 `crmqual sync`，或用 --input 在文件上对比",
    ),
    "lab.out_imported": (
        "{added} outcome(s) recorded, {known} already recorded, {bad} row(s) not read",
        "已记录 {added} 条结果，{known} 条此前已记录，{bad} 行无法读取",
    ),
    "lab.out_bad": (
        "error: line {line} (id {id}): {why}",
        "错误：第 {line} 行（编号 {id}）：{why}",
    ),
    "lab.why_columns": ("no {columns} column", "缺少 {columns} 列"),
    "lab.why_no_id": ("no id", "缺少编号"),
    "lab.why_outcome": ("outcome {value} is not one of {known}", "结果 {value} 不是 {known} 之一"),
    "lab.why_no_date": ("no date", "缺少日期"),
    "lab.why_date": (
        "date {value}: {why}",
        "日期 {value} 无效或无法识别（应写作 2026-03-05、2026/3/5 或 2026年3月5日）",
    ),
    "lab.why_future": ("date {value} lies in the future", "日期 {value} 晚于今天"),
    "lab.out_derived": (
        "{added} outcome(s) the credit record shows recorded, {known} already recorded",
        "已记录信用记录显示的 {added} 条结果，{known} 条此前已记录",
    ),
    "lab.bad_window": (
        "--window: {value!r} is not a window such as 12m, 6m or 1y",
        "--window：{value!r} 不是有效的观察期（例如 12m、6m 或 1y）",
    ),
    "lab.out_none": ("no outcomes recorded for {target}", "{target} 尚无记录的结果"),
    "lab.col_date": ("date", "日期"),
    "lab.col_outcome": ("outcome", "结果"),
    "lab.col_assessment": ("assessment", "评估记录"),
    "lab.col_source": ("source", "来源"),
    "psi.line": (
        "population stability (PSI against run {run}): {items}",
        "总体稳定性（与第 {run} 次运行相比的 PSI）：{items}",
    ),
    "psi.act": ("act on", "需处理"),
    "psi.watch": ("watch", "需关注"),
    "outcome.defaulted": ("defaulted", "违约"),
    "outcome.overdue_90": ("90+ days overdue", "逾期 90 天以上"),
    "outcome.written_off": ("written off", "已核销"),
    "outcome.paid_as_agreed": ("paid as agreed", "按约还款"),
    "lab.bt_heading": (
        "Backtest as of {as_of}, outcomes to {end} ({months} months): {accounts} accounts,"
        " {bad} bad ({rate})",
        "回测：评估日期 {as_of}，结果观察至 {end}（{months} 个月）：{accounts} 个客户，"
        "{bad} 个坏账户（{rate}）",
    ),
    "lab.bt_left_out": (
        "left out: {already} already bad at {as_of}, {unreadable} with inputs no longer valid",
        "已排除：{already} 个在 {as_of} 前已成坏账户，{unreadable} 个输入已无效",
    ),
    "lab.bt_policy": ("policy", "政策"),
    "lab.bt_auc": ("ROC AUC", "ROC AUC"),
    "lab.bt_gini": ("Gini", "基尼系数"),
    "lab.bt_ks": ("KS", "KS 值"),
    "lab.bt_bad_rate": ("bad rate", "坏账率"),
    "lab.bt_approval": ("approval rate (approved or conditional)", "准入率（通过或有条件）"),
    "lab.bt_caught": ("bad accounts in grades D-E", "D-E 级中的坏账户占比"),
    "lab.bt_caught_exposure": (
        "bad exposure in grades D-E, {currency}",
        "D-E 级中的坏账敞口占比，{currency}",
    ),
    "lab.bt_monotone": ("bad rate rises grade by grade", "坏账率随评级逐级上升"),
    "lab.yes": ("yes", "是"),
    "lab.no": ("no", "否"),
    "lab.bt_grades": ("Per grade: accounts, bad, bad rate", "各评级：客户数、坏账户数、坏账率"),
    "lab.bt_calibration": (
        "Calibration: score band, accounts, bad, bad rate",
        "校准：评分区间、客户数、坏账户数、坏账率",
    ),
    "lab.bt_recorded": (
        "backtest {id} recorded: prune keeps the {rows} assessment rows it scored",
        "回测 {id} 已记录：清理时保留其使用的 {rows} 条评估记录",
    ),
    "lab.bt_no_outcomes": (
        "warning: no bad outcome in the window: AUC, Gini and KS need bad and good accounts;"
        " import outcomes with `crmqual outcomes import FILE`",
        "警告：观察期内没有坏账结果：AUC、基尼系数和 KS 需要好坏两类客户；"
        "请用 `crmqual outcomes import FILE` 导入结果",
    ),
    # -- report (issue 21): the portfolio report page and `crmqual report` ------------------
    "report.title": ("Credit portfolio report", "信用组合报告"),
    "report.target": ("CRM", "CRM 目标"),
    "report.as_of": (
        "As of run {run} (started {at} UTC)",
        "截至第 {run} 次运行（开始于 {at} UTC）",
    ),
    "report.compared_run": (
        "compared with run {run} (started {at} UTC)",
        "对比第 {run} 次运行（开始于 {at} UTC）",
    ),
    "report.compared_since": (
        "compared with the portfolio before {since}",
        "对比 {since} 之前的组合",
    ),
    "report.compared_none": ("no earlier run to compare with", "没有可对比的更早运行"),
    "report.generated": ("Generated {at} UTC by {who}", "生成于 {at} UTC，生成者 {who}"),
    "report.policy": ("Policy versions", "政策版本"),
    "report.store": ("State store", "状态库"),
    "report.reproduce": ("Reproduce with", "重现命令"),
    "report.exposure_note": (
        "Exposure is the open receivables an account owes now (current exposure); amounts "
        "are summed per currency, never across currencies.",
        "敞口为客户当前未结应收款（当前敞口）；金额按币种分别汇总，不跨币种相加。",
    ),
    "report.summary": ("Summary", "概览"),
    "report.accounts": ("Accounts", "客户数"),
    "report.exposure": ("Exposure", "敞口"),
    "report.limits": ("Credit limits granted", "已授信用额度"),
    "report.utilisation": ("Utilisation", "额度使用率"),
    "report.over_limit": ("Over their limit", "超出额度"),
    "report.excess": ("Exposure above the limit", "超出额度部分"),
    "report.share": ("Share", "占比"),
    "report.currency": ("Currency", "币种"),
    "report.grade": ("Grade", "评级"),
    "report.status": ("Admission status", "准入状态"),
    "report.portfolio": ("The portfolio", "组合分布"),
    "report.by_grade": ("Accounts by grade", "各评级客户数"),
    "report.exposure_by_grade": (
        "Exposure by grade, share of each currency's total",
        "各评级敞口占该币种总敞口的比例",
    ),
    "report.grade_table": (
        "Exposure and limits by grade and currency",
        "按评级和币种的敞口与额度",
    ),
    "report.by_status": ("Accounts by admission status", "各准入状态客户数"),
    "report.utilisation_title": (
        "Utilisation of the credit limit (exposure / limit)",
        "信用额度使用率（敞口 / 额度）",
    ),
    "report.band": ("Utilisation band", "使用率区间"),
    "report.band.no_exposure": ("no exposure", "无敞口"),
    "report.band.no_limit": ("no limit set", "未设额度"),
    "report.band.under_50": ("up to 50 %", "不超过 50%"),
    "report.band.50_80": ("50 to 80 %", "50% 至 80%"),
    "report.band.80_100": ("80 to 100 %", "80% 至 100%"),
    "report.band.over": ("over the limit", "超出额度"),
    "report.moved": ("What moved", "变动情况"),
    "report.migration": ("Grade migration", "评级迁移"),
    "report.previous_grade": ("Previous grade", "原评级"),
    "report.current_grade": ("Grade now", "现评级"),
    "report.new": ("new", "新增"),
    "report.total": ("Total", "合计"),
    "report.upgrades": ("Upgrades", "评级上调"),
    "report.downgrades": ("Downgrades", "评级下调"),
    "report.new_accounts": ("New accounts", "新增客户"),
    "report.new_severe": ("Accounts with a new severe flag", "新增严重预警的客户"),
    "report.due_now": ("Due for review now", "当前待复评"),
    "report.newly_due": ("Became due for review", "新进入复评期"),
    "report.limit_changes": ("Credit limit changes", "信用额度变动"),
    "report.cuts": ("Limits cut", "额度下调"),
    "report.cut_total": ("Total cut", "下调合计"),
    "report.rises": ("Limits raised", "额度上调"),
    "report.rise_total": ("Total raised", "上调合计"),
    "report.downgraded": (
        "Downgraded accounts (largest exposure × worst grade first)",
        "评级下调的客户（按敞口 × 评级风险从高到低）",
    ),
    "report.new_severe_list": (
        "Accounts with new severe flags (largest exposure × worst grade first)",
        "新增严重预警的客户（按敞口 × 评级风险从高到低）",
    ),
    "report.new_flags": ("New flags", "新增预警"),
    "report.nothing": ("Nothing to list.", "无。"),
    "report.listed": ("The first {n} of {total} are listed.", "列出 {total} 个中的前 {n} 个。"),
    "report.flags": ("Flags", "预警"),
    "report.flags_title": ("Flags by frequency and severity", "预警的频次与严重程度"),
    "report.flag": ("Flag", "预警"),
    "report.severity": ("Severity", "严重程度"),
    "report.completeness": ("Data completeness", "数据完整度"),
    "report.completeness_title": (
        "Average data completeness by grade",
        "各评级的平均数据完整度",
    ),
    "report.average": ("Average completeness", "平均完整度"),
    "report.under_60": ("Under 60 %", "低于 60%"),
    "report.no_statement": ("No financial statement", "无财务报表"),
    "report.stale": ("Stale statements", "财报过期"),
    "report.top": ("The {n} accounts to look at first", "优先关注的 {n} 个客户"),
    "report.top_note": (
        "Accounts with a new severe flag (marked !) first, then the largest exposure × worst "
        "grade (weight A=1 to E=5).",
        "新增严重预警的客户（标 !）优先，其次按敞口 × 评级权重（A=1 至 E=5）从高到低。",
    ),
    "report.account": ("Account", "客户"),
    "report.score": ("Score", "评分"),
    "report.limit": ("Limit", "额度"),
    "report.reasons": ("Reasons", "原因"),
    "report.open": ("open in the CRM", "在 CRM 中打开"),
    "report.runs": ("Run health", "运行状况"),
    "report.runs_title": (
        "The last runs: records read, written and failed",
        "最近的运行：读取、写入与失败的记录数",
    ),
    "report.run": ("Run", "运行"),
    "report.started": ("Started (UTC)", "开始时间（UTC）"),
    "report.kind": ("Kind", "类型"),
    "report.read": ("Read", "读取"),
    "report.written": ("Written", "写入"),
    "report.failed": ("Failed", "失败"),
    "report.api_calls": ("API calls", "API 调用"),
    "report.duration": ("Duration (s)", "耗时（秒）"),
    "report.exit_code": ("Exit code", "退出码"),
    "report.psi": ("Population stability of the score", "评分的群体稳定性"),
    "report.psi_run": ("run", "运行"),
    "report.psi_compared_with": ("compared with run", "对比运行"),
    "report.psi_score": ("PSI of the score", "评分 PSI"),
    "report.psi_level": ("level", "程度"),
    "report.psi_watch": ("watch", "关注"),
    "report.psi_act": ("act on", "需处理"),
    "report.psi_stable": ("stable", "稳定"),
    "report.wrote": ("wrote the report to {path}", "报告已写入 {path}"),
    "report.no_target": (
        "the state store holds no run; run a sync first",
        "状态库中没有任何运行记录；请先运行一次同步",
    ),
    "report.no_runs": (
        "no run of {target} in the state store: run a sync first",
        "状态库中没有 {target} 的运行记录：请先运行一次同步",
    ),
    "report.no_run": (
        "no run {run} of {target} in the state store (see `crmqual runs`)",
        "状态库中没有 {target} 的第 {run} 次运行（见 `crmqual runs`）",
    ),
    "report.no_matplotlib": (
        "crmqual report draws its plots with matplotlib, which is not installed: "
        "pip install 'crmqual[report]'",
        "crmqual report 用 matplotlib 绘图，但它没有安装：pip install 'crmqual[report]'",
    ),
    "demo.report": ("Portfolio report: {path}", "组合报告：{path}"),
    # -- fleet (issue 23): `crmqual fleet` ---------------------------------------------------
    "fleet.no_extra": (
        "crmqual fleet needs the `fleet` extra (Celery, croniter, prometheus-client): "
        "pip install 'crmqual[fleet]'",
        "crmqual fleet 需要 `fleet` 扩展（Celery、croniter、prometheus-client）："
        "pip install 'crmqual[fleet]'",
    ),
    "fleet.sent": (
        "sent {org} to the workers (task {id})",
        "已将 {org} 发送给工作进程（任务 {id}）",
    ),
    "fleet.ran": (
        "{org}: exit {code}, written {written}, failed {failed}",
        "{org}：退出码 {code}，写入 {written}，失败 {failed}",
    ),
    "fleet.none_due": (
        "no org is due now (see `crmqual fleet status` for the next times)",
        "现在没有到期的组织（下次时间见 `crmqual fleet status`）",
    ),
    "fleet.col.org": ("org", "组织"),
    "fleet.col.last_run": ("last run (UTC)", "上次运行（UTC）"),
    "fleet.col.exit": ("exit", "退出码"),
    "fleet.col.written": ("written", "写入"),
    "fleet.col.failed": ("failed", "失败"),
    "fleet.col.calls": ("API calls", "API 调用"),
    "fleet.col.quota": ("quota left", "剩余配额"),
    "fleet.col.success": ("last success", "上次成功"),
    "fleet.col.next": ("next due (UTC)", "下次运行（UTC）"),
    "fleet.locked_by": ("{org}: lock held by {holder}", "{org}：锁由 {holder} 持有"),
    "fleet.stopped": (
        "{org} is stopped ({why}); fix it, then run `crmqual fleet resume {org}`",
        "{org} 已停止（{why}）；修复后请运行 `crmqual fleet resume {org}`",
    ),
    "fleet.resumed": (
        "{org} resumed: it runs at its next scheduled time",
        "{org} 已恢复：将在下次计划时间运行",
    ),
    "fleet.not_stopped": ("{org} was not stopped; nothing to do", "{org} 没有停止；无需操作"),
    # -- issue 20: `crmqual policy fit` (a scorecard fitted to the company's own history) --
    "fit.too_few": (
        "too few outcomes to fit a scorecard: {bad} bad and {good} good; at least {min_bad}"
        " bad and {min_good} good are needed, so that each of the 5 folds that measure the"
        " card out of sample holds 10 bad outcomes or more. Record more outcomes (`crmqual"
        " outcomes import`), widen --window or add --as-of dates, then fit again",
        "结果记录太少，无法拟合评分卡：坏 {bad} 个、好 {good} 个；至少需要坏 {min_bad} 个、"
        "好 {min_good} 个，这样用于样本外检验的 5 折中每折都有不少于 10 个坏结果。"
        "请补充结果记录（`crmqual outcomes import`）、放宽 --window 或增加 --as-of 日期后重新拟合",
    ),
    "fit.no_extra": (
        "crmqual policy fit needs what the `fit` extra installs ({module} is missing here):"
        " pip install 'crmqual[fit]'",
        "crmqual policy fit 需要安装 `fit` 扩展（未安装 {module}）：pip install 'crmqual[fit]'",
    ),
    "fit.nothing": (
        "no indicator tells bad from good outcomes in these accounts (none reaches an"
        " information value of 0.02); check that the inputs are the ones as of each outcome's"
        " window, or record more outcomes",
        "这些客户中没有任何指标能区分好坏结果（信息值均未达到 0.02）；请检查输入是否为各结果"
        "观察期开始时的数据，或补充结果记录",
    ),
    "fit.reason_low": ("{label} is weak ({value}).", "{label}偏弱（{value}）。"),
    "fit.reason_high": ("{label} is high ({value}).", "{label}偏高（{value}）。"),
    "fit.dim.financial_health": ("Financial health", "财务状况"),
    "fit.dim.profitability": ("Profitability", "盈利能力"),
    "fit.dim.repayment_capacity": ("Repayment capacity", "还款能力"),
    "fit.dim.credit_record": ("Credit record", "信用记录"),
    "fit.dim.business_stability": ("Business stability", "业务稳定性"),
    "fit.dim.legal_compliance": ("Legal compliance", "法律合规性"),
    "fit.dim.reputation_operations": ("Reputation and operations", "行业信誉与运营能力"),
    "fit.dim.esg": ("ESG", "环境社会治理"),
    "fit.no_outcome_column": (
        "{file} has no `outcome` column: give each account's inputs with its outcome"
        " (defaulted, overdue_90, written_off or paid_as_agreed) in one row",
        "{file} 没有 `outcome` 列：每行应给出客户的输入数据及其结果"
        "（defaulted、overdue_90、written_off 或 paid_as_agreed）",
    ),
    "fit.bad_outcome": (
        "on line {line} (id {id}), the outcome {value!r} is not one of defaulted, overdue_90,"
        " written_off, paid_as_agreed; the row is left out",
        "第 {line} 行（id {id}）：结果 {value!r} 不是 defaulted、overdue_90、written_off、"
        "paid_as_agreed 之一；已跳过该行",
    ),
    "fit.bad_date": (
        "on line {line} (id {id}), as_of {value!r} is not a date; the row is fitted but not"
        " dated, so no out-of-time figure",
        "第 {line} 行（id {id}）：as_of {value!r} 不是日期；该行参与拟合但无日期，"
        "因此不做跨时间检验",
    ),
    "fit.file_or_store": (
        "give --outcomes FILE (inputs and outcomes in one CSV/JSONL) or --as-of DATE (the"
        " state store's accounts and recorded outcomes), not both",
        "请给出 --outcomes FILE（一个 CSV/JSONL 中含输入和结果）或 --as-of DATE"
        "（状态库中的客户和已记录结果），二者不能同时给出",
    ),
    "fit.heading": (
        "Fitted on {rows} accounts with {bad} bad outcomes, from {source}; base policy {base}",
        "基于{source}的 {rows} 个客户（坏 {bad} 个）拟合；基准政策 {base}",
    ),
    "fit.indicators": (
        "{n} indicators kept; {pdo} score points double the odds of a good outcome",
        "保留 {n} 个指标；评分每增加 {pdo} 分，好结果的几率翻倍",
    ),
    "fit.line": (
        "  {indicator} ({label}), {direction} as it rises, with weight {weight}: in bands"
        " {bands} it scores {points}, and a missing value scores {missing}",
        "  {indicator}（{label}，{direction}），权重 {weight}：分段 {bands}，得分 {points}，"
        "缺失得 {missing}",
    ),
    "fit.direction.safer": ("safer", "越高越安全"),
    "fit.direction.riskier": ("riskier", "越高风险越大"),
    "fit.kfold": (
        "Out of sample, {k}-fold: ROC AUC {fitted} (the base policy on the same rows: {base})",
        "样本外（{k} 折）：ROC AUC {fitted}（基准政策在同样数据上：{base}）",
    ),
    "fit.oot": (
        "Out of time (fitted on the rows up to {until}, then scoring {rows} accounts from"
        " {since}, {bad} of them bad): ROC AUC {auc}",
        "跨时间（拟合至 {until}，对 {since} 起的 {rows} 个客户评分，坏 {bad} 个）：ROC AUC {auc}",
    ),
    "fit.no_oot": (
        "No out-of-time figure: the rows are not dated, or the earlier part holds too few bad"
        " outcomes",
        "无跨时间检验：数据没有日期，或较早部分的坏结果太少",
    ),
    "fit.grades": (
        "Grade floors A {A}, B {B}, C {C}, D {D}, E 0 ({why})",
        "等级下限 A {A}、B {B}、C {C}、D {D}、E 0（{why}）",
    ),
    "fit.keep_shares": (
        "each grade keeps the base policy's share of these accounts",
        "各等级保持基准政策下的客户占比",
    ),
    "fit.approval": (
        "{rate} of these accounts above E, as asked",
        "按要求 {rate} 的客户高于 E 级",
    ),
    "fit.wrote": (
        "The new policy is in {file}, as version {version}: check it with `crmqual policy check"
        " {file}` and compare it with `crmqual policy diff {base} {file}`",
        "已写入 {file}（版本 {version}）：可用 `crmqual policy check {file}` 检查，"
        "用 `crmqual policy diff {base} {file}` 比较",
    ),
    "fit.cannot_write": (
        "cannot write {file}: {why}; choose a folder that exists and that you may write to",
        "无法写入 {file}：{why}；请选择一个存在且可写入的目录",
    ),
    "fit.bad_rate_option": (
        "--approval-rate must be a share between 0 and 1 (e.g. 0.85), not {value}",
        "--approval-rate 必须是 0 到 1 之间的比例（如 0.85），而不是 {value}",
    ),
    # -- Fxiaoke adapter (issue 18): check's options, provision's console steps --------------
    "check.options_missing": (
        "options missing: {values}; add them (in this order) in the CRM's console, then run "
        "`crmqual check` again",
        "缺少选项：{values}；请在 CRM 控制台中（按此顺序）添加，然后再次运行 `crmqual check`",
    ),
    "check.options_to_add": (
        "options to add: {values} (by `crmqual provision`)",
        "待添加的选项：{values}（由 `crmqual provision` 添加）",
    ),
    "demo.by_hand": (
        "{crm}'s API cannot create fields: the demo does what its admin does in the console "
        "(`crmqual sandbox fields add`), creating the {n} fields `crmqual provision` lists:",
        "{crm} 的 API 不能创建字段：演示代替管理员在后台操作（`crmqual sandbox fields add`），"
        "创建了 `crmqual provision` 列出的 {n} 个字段：",
    ),
}

S = TypeVar("S")


def t(key: str, lang: str, /, **values: Any) -> str:
    """The text ``key`` in ``lang`` (en or zh), with ``values`` filled in."""
    en, zh = CATALOGUE[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def t_or(key: str, lang: str, fallback: str) -> str:
    """The text ``key`` when the catalogue has it, else ``fallback`` unchanged (a code the
    catalogue does not know, e.g. a run status a newer state store wrote)."""
    return t(key, lang) if key in CATALOGUE else fallback


def default_lang() -> str:
    """$CRMQUAL_LANG when it names a language crmqual speaks, else English."""
    value = os.environ.get(LANG_ENV, "").strip().lower()
    return value if value in LANGS else "en"


#: where `lang_option` leaves the command's language for code without a `lang` argument
_LANG_META = "crmqual.lang"


#: where ``crmqual.cli.context.config_option`` leaves the configuration file's path
CONFIG_META = "crmqual.config"
_CONFIG_LANG = re.compile(r"""^lang:\s*["']?(\w+)""", re.MULTILINE)


def config_lang(path: str | None) -> str | None:
    """The ``lang:`` a configuration file names (``crmqual init --crm fxiaoke`` writes zh), if
    the file exists and names a language crmqual speaks."""
    try:
        text = Path(path or os.environ.get("CRMQUAL_CONFIG", "crmqual.yaml")).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return named_lang(text)


def named_lang(config_text: str) -> str | None:
    """The ``lang:`` a configuration's text names, if crmqual speaks it."""
    found = _CONFIG_LANG.search(config_text)
    return found.group(1) if found and found.group(1) in LANGS else None


def lang_given() -> bool:
    """Did the running command get its language from ``--lang`` or $CRMQUAL_LANG (rather than
    falling back to English)?"""
    ctx = click.get_current_context(silent=True)
    if ctx is None or os.environ.get(LANG_ENV):
        return ctx is not None
    return ctx.get_parameter_source("lang") not in (
        None,
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    )


def use_lang(lang: str) -> str:
    """Make ``lang`` the running command's language (what `current_lang()` answers)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[_LANG_META] = lang
    return lang


def _remember_lang(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """The option's value; when it was not given and $CRMQUAL_LANG is not set, the
    configuration's ``lang:`` (if the command has a configuration)."""
    given = ctx.get_parameter_source(param.name or "lang")
    defaulted = given in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
    if defaulted and not os.environ.get(LANG_ENV) and CONFIG_META in ctx.meta:
        value = config_lang(ctx.meta[CONFIG_META]) or value
    ctx.meta[_LANG_META] = value
    return value


def lang_option(fn: Callable[..., S]) -> Callable[..., S]:
    """``--lang en|zh`` on a command; $CRMQUAL_LANG gives the default, else the
    configuration's ``lang:`` (a command with ``-c``), the option wins. Eager, so that errors
    in the command's other options are already in its language."""
    return click.option(
        "--lang",
        type=click.Choice(LANGS),
        default=default_lang,
        show_default=f"en, or ${LANG_ENV}",
        help="Language of the output (en or zh).",
        callback=_remember_lang,
        is_eager=True,
    )(fn)


def current_lang() -> str:
    """The running command's ``--lang``, else $CRMQUAL_LANG's language, else English."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and _LANG_META in ctx.meta:
        return str(ctx.meta[_LANG_META])
    return default_lang()


def number(value: float, decimals: int = 0) -> str:
    """Thousands separators, a fixed number of decimals: ``1,234,567``, ``1,234.5``."""
    return f"{value:,.{decimals}f}"


def pct(ratio: float, lang: str = "en", decimals: int = 1) -> str:
    """A ratio as a percentage: ``0.8295`` reads ``82.9 %`` (``82.9%`` in Chinese)."""
    return f"{ratio * 100:,.{decimals}f}" + ("%" if lang == "zh" else " %")


def amount(value: float, currency: str | None, lang: str = "en") -> str:
    """An amount as an admin reads it: ``24,095,000 CNY``; in Chinese, CNY in 万 / 亿
    (``2,409.5 万元``, ``2.41 亿元``, ``5,000 元``)."""
    if lang == "zh" and currency in ("CNY", "RMB"):
        size = abs(value)
        if size >= 1e8:
            return f"{value / 1e8:,.2f} 亿元"
        if size >= 1e4:
            return f"{value / 1e4:,.1f} 万元"
        return f"{value:,.0f} 元"
    return f"{value:,.0f} {currency or ''}".rstrip()


def width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (left-aligned, or right)."""
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill
