"""Which page layouts an admin named (Zoho's and Salesforce's layout settings both use it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


L = TypeVar("L", bound=_Named)


def chosen(layouts: Sequence[L], names: Sequence[str]) -> tuple[list[L], list[str]]:
    """(the layouts named, in the names' order; names no layout has), matched without
    regard to case; every layout when ``names`` is empty."""
    if not names:
        return list(layouts), []
    by_name = {layout.name.casefold(): layout for layout in layouts}
    return (
        [by_name[n.casefold()] for n in names if n.casefold() in by_name],
        [n for n in names if n.casefold() not in by_name],
    )
