"""The CRM dialects the sandbox speaks: one package each beside the shared machinery.

A dialect package (``sandbox/zoho/``) holds its WSGI app, its handlers and schema, and
``backend.<Crm>Sandbox``, its Python API; ``crmqual sandbox --crm NAME`` offers the names
here. Adding a dialect (Salesforce, Fxiaoke) adds its package and an entry to this table.
The shared machinery (store, clock, faults, seed data, server) never imports a dialect.
"""

from __future__ import annotations

#: ``--crm`` name -> the dialect's package
DIALECTS = {"zoho": "crmqual.sandbox.zoho"}
