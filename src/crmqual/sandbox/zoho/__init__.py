"""The Zoho CRM dialect of the sandbox: REST API v8 (and v2 for Zoho's SDK), OAuth, Bulk Read
and Bulk Write, Tasks, credits and editions, over the shared store, clock and server.

``backend.ZohoSandbox`` is its Python API; ``app.ZohoApp`` its WSGI app.
"""
