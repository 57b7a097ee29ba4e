"""`AccountObj` (客户) and the follow-up object `ActiveRecordObj` (销售记录): their standard
fields as Fxiaoke's describe shows them, kept in the store as `FieldDef`s under Fxiaoke's own
type names (`text`, `number`, `currency`, `select_one`, `select_many`, `date`, `date_time`,
`employee`, ...). Industries follow GB/T 4754 (国民经济行业分类: section, then division) and
places GB/T 2260 division codes, as Chinese CRMs list them.
"""

from __future__ import annotations

from typing import Any

from crmqual.sandbox.fielddef import FieldDef, PicklistValue
from crmqual.sandbox.seed_identity import _CN_CITIES
from crmqual.sandbox.store import SandboxStore

ACCOUNT = "AccountObj"
FOLLOWUP = "ActiveRecordObj"
OBJECTS = {ACCOUNT: "客户", FOLLOWUP: "销售记录"}
ID_PREFIX = "5f3a3de5"
"""`_id`s are 24 hex digits like the samples': this prefix and the store's id in 16 digits."""
ID_BASE = 0x7C604A00017D0000

# English industry of the shared seed -> (GB/T 4754 section, its name, division, its name)
INDUSTRY: dict[str, tuple[str, str, str, str]] = {
    "Agriculture": ("A", "农、林、牧、渔业", "A01", "农业"),
    "Chemicals": ("C", "制造业", "C26", "化学原料和化学制品制造业"),
    "Construction": ("E", "建筑业", "E48", "土木工程建筑业"),
    "Education": ("P", "教育", "P83", "教育"),
    "Energy": ("D", "电力、热力、燃气及水生产和供应业", "D44", "电力、热力生产和供应业"),
    "Financial Services": ("J", "金融业", "J66", "货币金融服务"),
    "Food & Beverage": ("C", "制造业", "C14", "食品制造业"),
    "Healthcare": ("Q", "卫生和社会工作", "Q84", "卫生"),
    "Hospitality": ("H", "住宿和餐饮业", "H61", "住宿业"),
    "Logistics": ("G", "交通运输、仓储和邮政业", "G59", "装卸搬运和仓储业"),
    "Manufacturing": ("C", "制造业", "C34", "通用设备制造业"),
    "Media": ("R", "文化、体育和娱乐业", "R87", "广播、电视、电影和录音制作业"),
    "Mining": ("B", "采矿业", "B06", "煤炭开采和洗选业"),
    "Real Estate": ("K", "房地产业", "K70", "房地产业"),
    "Retail": ("F", "批发和零售业", "F52", "零售业"),
    "Technology": ("I", "信息传输、软件和信息技术服务业", "I65", "软件和信息技术服务业"),
    "Telecommunications": (
        "I",
        "信息传输、软件和信息技术服务业",
        "I63",
        "电信、广播电视和卫星传输服务",
    ),
    "Textiles": ("C", "制造业", "C17", "纺织业"),
    "Wholesale": ("F", "批发和零售业", "F51", "批发业"),
}
INDUSTRY_BY_DIVISION = {v[2]: k for k, v in INDUSTRY.items()}
# city of the shared seed -> (province code, province, city code, city), GB/T 2260
PLACES: dict[str, tuple[str, str, str, str]] = {
    city: (f"{division[:2]}0000", province, f"{division}00", f"{city}市")
    for city, province, division in _CN_CITIES
}

ACCOUNT_TYPES = (("1", "潜在客户"), ("2", "正式客户"), ("3", "合作伙伴"))
ACCOUNT_LEVELS = (("1", "重要客户"), ("2", "普通客户"), ("3", "一般客户"))
ACCOUNT_SOURCES = (
    ("1", "线上推广"),
    ("2", "展会"),
    ("3", "客户转介绍"),
    ("4", "电话营销"),
    ("other", "其他"),
)
LIFE_STATUS = (
    ("normal", "正常"),
    ("ineffective", "未生效"),
    ("under_review", "审核中"),
    ("in_change", "变更中"),
    ("invalid", "作废"),
)
LOCK_STATUS = (("0", "未锁定"), ("1", "锁定"))
ACTIVE_TYPES = (("1", "电话"), ("2", "拜访"), ("3", "邮件"), ("4", "信用复核"))

SYSTEM = {
    "_id",
    "create_time",
    "last_modified_time",
    "created_by",
    "last_modified_by",
    "version",
    "is_deleted",
    "life_status",
    "lock_status",
    "object_describe_api_name",
    "relevant_team",
    "data_own_department",
    "record_type",
    "account_no",
}
"""Fields a client cannot write."""


def options(
    pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]],
) -> tuple[PicklistValue, ...]:
    return tuple(
        PicklistValue(id=value, display_value=label, actual_value=value, sequence_number=i + 1)
        for i, (value, label) in enumerate(pairs)
    )


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pairs))


def _field(api_name: str, label: str, data_type: str, **extra: Any) -> FieldDef:
    return FieldDef(
        id=api_name,
        api_name=api_name,
        label=label,
        data_type=data_type,
        read_only=api_name in SYSTEM,
        **extra,
    )


def _common(now: str) -> list[FieldDef]:
    return [
        _field("_id", "_id", "text"),
        _field("owner", "负责人", "employee", system_mandatory=True),
        _field("created_by", "创建人", "employee"),
        _field("last_modified_by", "最后修改人", "employee"),
        _field("create_time", "创建时间", "date_time"),
        _field("last_modified_time", "最后修改时间", "date_time"),
        _field("life_status", "生命状态", "select_one", picklist=options(LIFE_STATUS)),
        _field("lock_status", "锁定状态", "select_one", picklist=options(LOCK_STATUS)),
        _field("is_deleted", "是否删除", "true_or_false"),
        _field("version", "版本", "text"),
        _field(
            "record_type",
            "业务类型",
            "record_type",
            picklist=options([("default__c", "预设业务类型")]),
        ),
        _field("relevant_team", "相关团队", "embedded_object_list"),
        _field("data_own_department", "归属部门", "department"),
        _field("object_describe_api_name", "对象API名称", "text"),
    ]


def account_fields(now: str) -> list[FieldDef]:
    industries1 = _unique([(v[0], v[1]) for v in INDUSTRY.values()])
    industries2 = _unique([(v[2], v[3]) for v in INDUSTRY.values()])
    provinces = _unique([(v[0], v[1]) for v in PLACES.values()])
    cities = _unique([(v[2], v[3]) for v in PLACES.values()])
    return [
        _field("name", "客户名称", "text", system_mandatory=True, length=100),
        _field("account_no", "客户编号", "auto_number"),
        _field("account_type", "客户类型", "select_one", picklist=options(ACCOUNT_TYPES)),
        _field("account_level", "客户级别", "select_one", picklist=options(ACCOUNT_LEVELS)),
        _field("account_source", "来源", "select_one", picklist=options(ACCOUNT_SOURCES)),
        _field("tel", "电话", "phone_number"),
        _field("fax", "传真", "text"),
        _field("email", "邮件", "email"),
        _field("url", "网址", "url"),
        _field("country", "国家", "country", picklist=options([("248", "中国")])),
        _field("province", "省", "province", picklist=options(provinces)),
        _field("city", "市", "city", picklist=options(cities)),
        _field("address", "详细地址", "text"),
        _field("area_location", "地区定位", "location"),
        _field("industry_level1", "1级行业", "select_one", picklist=options(industries1)),
        _field("industry_level2", "2级行业", "select_one", picklist=options(industries2)),
        _field("remark", "备注", "long_text"),
        _field("back_reason", "销售人员退回原因", "text"),
        *_common(now),
    ]


def followup_fields(now: str) -> list[FieldDef]:
    return [
        _field("name", "主题", "text", system_mandatory=True, length=100),
        _field("active_record_type", "跟进类型", "select_one", picklist=options(ACTIVE_TYPES)),
        _field("active_record_content", "跟进内容", "long_text", system_mandatory=True),
        _field("account_id", "客户", "object_reference", lookup_module=ACCOUNT),
        _field("remind_time", "提醒时间", "date_time"),
        *_common(now),
    ]


def install(store: SandboxStore, now: str) -> None:
    """Put both objects and their standard fields into a store that lacks them."""
    modules = store.modules()
    for api_name, make in ((ACCOUNT, account_fields), (FOLLOWUP, followup_fields)):
        if api_name in modules:
            continue
        with store.transaction():
            for f in make(now):
                store.put_field(api_name, f)
            store.put_module(api_name, {"api_name": api_name, "display_name": OBJECTS[api_name]})


def record_id(number: int) -> str:
    """The `_id` of store id `number`."""
    return f"{ID_PREFIX}{number:016x}"


def store_id(value: Any) -> int | None:
    """The store id of an `_id`, or None if it is not one of ours."""
    if not isinstance(value, str) or len(value) != 24 or not value.startswith(ID_PREFIX):
        return None
    try:
        number = int(value[8:], 16)
    except ValueError:
        return None
    return number if number < 2**63 else None
