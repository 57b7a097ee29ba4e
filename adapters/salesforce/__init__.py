"""Salesforce for crmqual, on simple-salesforce: one module per API surface.

``adapter`` (``SalesforceAdapter``), ``plugin`` (``PLUGIN``, the entry point's object),
``config`` (``SalesforceConnection``: flow, hosts, version, limits, bulk thresholds),
``login`` (the JWT bearer, client-credentials and SOAP logins; renewal), ``session`` (the
org's HTTP client and the ``requests`` session simple-salesforce is handed), ``errors``
(Salesforce's error table), ``describe`` (fields as ``FieldSpec``s).

``PLUGIN``, ``SalesforceAdapter`` and ``SalesforceConnection`` are imported from here on first
use, so that importing the package (as the entry point does) imports no more than it needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmqual.adapters.salesforce.adapter import SalesforceAdapter
    from crmqual.adapters.salesforce.config import SalesforceConnection
    from crmqual.adapters.salesforce.plugin import PLUGIN

__all__ = ["PLUGIN", "SalesforceAdapter", "SalesforceConnection"]

_WHERE = {"PLUGIN": "plugin", "SalesforceAdapter": "adapter", "SalesforceConnection": "config"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
