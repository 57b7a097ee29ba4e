"""Zoho CRM for crmqual: one module per API surface.

``adapter`` (``ZohoAdapter``), ``plugin`` (``PLUGIN``, the entry point's object), ``config``
(the connection model and bulk settings), ``auth`` (OAuth tokens), ``errors`` (Zoho's error
table), ``api`` (calls, credits, server time), ``transport`` (the interface of the two
transports), ``rest`` and ``sdk`` + ``sdk_runtime`` (the transports), ``read`` (paging),
``bulk`` (when to go bulk, waiting for jobs), ``bulk_read``, ``bulk_write``, ``transfers``
(uploads, downloads, their ZIP/CSV), ``fields`` (describe and provisioning), ``tasks``
(follow-up Tasks), ``check``.

``PLUGIN``, ``ZohoAdapter`` and ``ZohoConnection`` are imported from here on first use, so that
importing the package (as the entry point does) imports no more than it needs; zcrmsdk is
imported only when an adapter with ``transport: sdk`` is built.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmqual.adapters.zoho.adapter import ZohoAdapter
    from crmqual.adapters.zoho.config import ZohoConnection
    from crmqual.adapters.zoho.plugin import PLUGIN

__all__ = ["PLUGIN", "ZohoAdapter", "ZohoConnection"]

_WHERE = {"PLUGIN": "plugin", "ZohoAdapter": "adapter", "ZohoConnection": "config"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
