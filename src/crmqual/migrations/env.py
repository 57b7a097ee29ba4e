"""Alembic environment for crmqual's state store.

Migrations run only through :class:`crmqual.state.StateStore`, which hands over an open
connection (``config.attributes["connection"]``) already inside a transaction; there is
no offline mode and no ``alembic.ini`` on the user's side. This file deliberately does not
call ``logging.config.fileConfig``: the application owns logging.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from crmqual.state.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):  # pragma: no cover - misuse guard
    raise RuntimeError(
        "crmqual migrations run only via crmqual.state.StateStore, "
        "which passes an open connection in config.attributes['connection']"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
