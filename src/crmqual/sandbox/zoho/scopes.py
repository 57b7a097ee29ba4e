"""Zoho OAuth scopes: `Service.group[.resource].OPERATION`, compared case-insensitively.

A granted scope covers a required one when service and group match, the granted scope names no
resource or the same resource, and its operation is ALL, the same, or WRITE for CREATE, UPDATE
or DELETE (zoho.md section 3.3). Each endpoint declares a `Requirement`: alternatives, each a set
of scopes that must all be granted.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.ALL",
    "ZohoCRM.org.ALL",
    "ZohoCRM.coql.READ",
    "ZohoCRM.bulk.ALL",
    "ZohoSearch.securesearch.READ",
)
"""What a sandbox refresh token carries unless narrowed."""

_WRITE_OPS = frozenset({"CREATE", "UPDATE", "DELETE"})


@dataclass(frozen=True)
class Scope:
    service: str
    group: str
    resource: str | None
    operation: str

    @classmethod
    def parse(cls, text: str) -> Scope:
        parts = text.strip().split(".")
        if len(parts) == 3:
            return cls(parts[0].lower(), parts[1].lower(), None, parts[2].upper())
        if len(parts) == 4:
            return cls(parts[0].lower(), parts[1].lower(), parts[2].lower(), parts[3].upper())
        raise ValueError(f"not a Zoho scope: {text!r}")

    def covers(self, required: Scope) -> bool:
        if (self.service, self.group) != (required.service, required.group):
            return False
        if self.resource is not None and self.resource != required.resource:
            return False
        return self.operation in ("ALL", required.operation) or (
            self.operation == "WRITE" and required.operation in _WRITE_OPS
        )


Requirement = tuple[tuple[str, ...], ...]
"""Any one of the inner tuples, all of whose scopes are needed."""


def is_valid(text: str) -> bool:
    try:
        Scope.parse(text)
    except ValueError:
        return False
    return True


def satisfied(granted: tuple[str, ...], requirement: Requirement) -> bool:
    have = [Scope.parse(g) for g in granted if is_valid(g)]
    return any(
        all(any(g.covers(Scope.parse(need)) for g in have) for need in alternative)
        for alternative in requirement
    )


def module_scope(module: str, operation: str) -> str:
    return f"ZohoCRM.modules.{module.lower()}.{operation}"
