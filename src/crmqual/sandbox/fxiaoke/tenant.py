"""The Fxiaoke tenant (企业) the sandbox imitates: its app credentials and its employees.

The app's `appId`, `appSecret` and `permanentCode` are made once per sandbox file (random,
kept in meta `fxiaoke:tenant`); the employees are fixed. An employee has an open user id
(`FSUID_...`, what `currentOpenUserId` names in body mode) and a numeric employee id (what
`x-fs-userid` names in header mode, and what `owner`, `created_by`, `last_modified_by` hold).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from crmqual.sandbox.store import SandboxStore

_KEY = "fxiaoke:tenant"


@dataclass(frozen=True)
class Employee:
    employee_id: str
    open_user_id: str
    name: str
    department: str


INTEGRATION_USER = Employee("1000", "FSUID_6A1F0E3C2B8D4F7A9C1E5B3D8F2A4C6E", "系统集成", "999999")
"""The integration employee the printed credentials act as (admin-level data rights)."""
PERSON = Employee("1001", "FSUID_1B2C3D4E5F60718293A4B5C6D7E8F901", "王芳", "1000")
"""The salesperson whose edits the Python API's `hand_edit` makes."""
OWNERS: tuple[Employee, ...] = (
    PERSON,
    Employee("1002", "FSUID_2C3D4E5F60718293A4B5C6D7E8F90A12", "张伟", "1000"),
    Employee("1003", "FSUID_3D4E5F60718293A4B5C6D7E8F90A1B23", "李娜", "1001"),
    Employee("1004", "FSUID_4E5F60718293A4B5C6D7E8F90A1B2C34", "刘洋", "1001"),
    Employee("1005", "FSUID_5F60718293A4B5C6D7E8F90A1B2C3D45", "陈静", "1002"),
)
EMPLOYEES: tuple[Employee, ...] = (INTEGRATION_USER, *OWNERS)
_BY_OPEN = {e.open_user_id: e for e in EMPLOYEES}
_BY_ID = {e.employee_id: e for e in EMPLOYEES}


def by_open_user_id(value: str) -> Employee | None:
    return _BY_OPEN.get(value)


def by_header(value: str) -> Employee | None:
    """`x-fs-userid`: the employee id; an open user id is accepted too (assumption)."""
    return _BY_ID.get(value) or _BY_OPEN.get(value)


@dataclass(frozen=True)
class Tenant:
    app_id: str
    app_secret: str
    permanent_code: str
    corp_id: str
    ea: str
    tenant_seed: int


def tenant(store: SandboxStore) -> Tenant:
    """The file's tenant, made on first use."""
    raw = store.get_meta(_KEY)
    if raw is not None:
        return Tenant(**json.loads(raw))
    with store.transaction():
        raw = store.get_meta(_KEY)
        if raw is not None:
            return Tenant(**json.loads(raw))
        made = Tenant(
            app_id=f"FSAID_{secrets.token_hex(4)}",
            app_secret=secrets.token_hex(16),
            permanent_code=secrets.token_hex(16).upper(),
            corp_id=f"FSCID_{secrets.token_hex(16).upper()}",
            ea=f"{secrets.randbelow(900_000) + 100_000}",
            tenant_seed=secrets.randbits(32),
        )
        store.set_meta(_KEY, json.dumps(asdict(made)))
        return made
