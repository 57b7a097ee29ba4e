"""Many rows of one shape inserted at once, their values converted for the database here.

SQLAlchemy's ``conn.execute(insert, rows)`` builds each row's parameters key by key and
runs every value through its column type's bind processor: per pending row of a sync,
more CPU than the database's own insert. Here the statement is compiled once, the values
every row shares (run, target, time, status) are converted once per batch, and only the
non-null values of columns whose type converts anything go through the type's own bind
processor, once for a value the row before had too; the rows then go to the driver's
``executemany`` as they are. What is stored is what ``conn.execute`` would have stored: the
same SQL, the same converters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection


class BulkInsert:
    """An insert (``INSERT INTO table (shared..., columns...)``, an upsert too) of many rows
    on one dialect."""

    def __init__(
        self,
        statement: sa.Insert,
        shared: Sequence[str],
        columns: Sequence[str],
        dialect: sa.Dialect,
    ) -> None:
        table = statement.table
        assert isinstance(table, sa.Table)
        names = [*shared, *columns]
        compiled = statement.compile(dialect=dialect, column_keys=names, for_executemany=True)
        self.sql = str(compiled)
        self.shared = tuple(shared)
        self.columns = tuple(columns)
        #: qmark/numeric drivers (sqlite3) take tuples in the statement's order; named
        #: ones (psycopg) dicts.
        self.order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup is not None else None
        )
        if set(compiled.binds) != set(names):
            raise ValueError(f"{table.name}: bind names {sorted(compiled.binds)} are not {names}")

        def converter(name: str) -> Callable[[Any], Any] | None:
            column = table.c[name]
            convert = column.type.dialect_impl(dialect).bind_processor(dialect)
            return cast(Callable[[Any], Any] | None, convert)

        self._convert = {name: converter(name) for name in names}
        #: What each converter makes of a null, found once (most keep it null; JSON
        #: without ``none_as_null`` stores the text ``null``).
        self._null = {name: _null(c) for name, c in self._convert.items() if c is not None}
        #: A row's values (shared first) in the statement's order, as a tuple.
        at = [names.index(name) for name in self.order] if self.order is not None else []
        self._in_order: Callable[[list[Any]], Any] = (
            itemgetter(*at) if len(at) > 1 else lambda values: tuple(values)
        )
        #: (position in a row, converter, its null) of the columns whose values convert
        self._converted = [
            (i, c, self._null[name])
            for i, name in enumerate(columns)
            if (c := self._convert[name]) is not None
        ]

    def execute(
        self, conn: Connection, shared: Mapping[str, Any], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert ``rows`` (values in ``columns`` order), each with the ``shared`` values."""
        if not rows:
            return
        fixed = []
        for name in self.shared:
            value, convert = shared[name], self._convert[name]
            if convert is not None:
                value = self._null[name] if value is None else convert(value)
            fixed.append(value)
        converted = [(len(fixed) + i, convert, null) for i, convert, null in self._converted]
        # A value the row before had in the same column (the same object: a sync's one
        # assessment time) is not converted again.
        last_in: list[Any] = [None] * len(converted)
        last_out: list[Any] = [None] * len(converted)
        in_order = self._in_order
        params: list[Any] = []
        for row in rows:
            values = [*fixed, *row]
            for k, (i, convert, null) in enumerate(converted):
                value = values[i]
                if value is None:
                    if null is not None:
                        values[i] = null
                elif value is last_in[k]:
                    values[i] = last_out[k]
                else:
                    last_in[k] = value
                    values[i] = last_out[k] = convert(value)
            params.append(in_order(values))
        if self.order is None:
            names = (*self.shared, *self.columns)
            params = [dict(zip(names, values, strict=True)) for values in params]
        conn.exec_driver_sql(self.sql, params)


def _null(convert: Callable[[Any], Any]) -> Any:
    """What ``convert`` makes of None (a converter that refuses one: None stays None)."""
    try:
        return convert(None)
    except (TypeError, ValueError, AttributeError):
        return None
