"""Fxiaoke (纷享销客 / ShareCRM) for crmqual: one module per concept.

``adapter`` (``FxiaokeAdapter``), ``plugin`` (``PLUGIN``, the entry point's object), ``config``
(the connection model, limits, error codes, follow-up object), ``auth`` (both token modes),
``errors`` (the ``errorCode`` envelope), ``api`` (calls, the rate limiter, server time),
``fields`` (describe; values between Fxiaoke's forms and crmqual's), ``read`` (offset paging),
``write`` (one-record updates, lost answers reconciled), ``followups`` (销售记录).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmqual.adapters.fxiaoke.adapter import FxiaokeAdapter
    from crmqual.adapters.fxiaoke.config import FxiaokeConnection
    from crmqual.adapters.fxiaoke.plugin import PLUGIN

__all__ = ["PLUGIN", "FxiaokeAdapter", "FxiaokeConnection"]

_WHERE = {"PLUGIN": "plugin", "FxiaokeAdapter": "adapter", "FxiaokeConnection": "config"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
