"""Reading an untrusted SQLite database in bounded time and memory.

A small database can declare a generated column (``hex(zeroblob(2e8))``: 400 MB per
read) or a virtual table; its schema is the attacker's. So a database is opened
read-only with SQLite's own limits lowered (``SQLITE_LIMIT_LENGTH``: no string or blob
over ``MAX_SQLITE_VALUE_BYTES`` is ever built, not even inside SQL), with
``trusted_schema`` off; the tables read must be ordinary tables whose columns are
stored, and every column read is checked in SQL, in one scan per table, for its type
and length before any value reaches Python.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scalelaw.data.limits import MAX_TEXT_CELL_BYTES, size_text
from scalelaw.errors import InputError

#: Largest string or blob SQLite builds on a connection scalelaw opened (its limit, set per connection).
MAX_SQLITE_VALUE_BYTES = 1 << 20
NUMBER = ("integer", "real")


@dataclass(frozen=True)
class Column:
    """What a column read from an untrusted database may hold: SQLite types and, for text, a length."""

    types: tuple[str, ...]
    max_length: int = MAX_TEXT_CELL_BYTES
    nullable: bool = False

    def problem_sql(self, name: str) -> str:
        """An SQL condition true for a value this column must not hold."""
        allowed = self.types + (("null",) if self.nullable else ())
        kinds = ", ".join(f"'{t}'" for t in allowed)
        return f"(typeof(\"{name}\") NOT IN ({kinds}) OR length(\"{name}\") > {int(self.max_length)})"


def connect_read_only(path: Path, *, timeout: float) -> sqlite3.Connection:
    """A read-only connection with SQLite's length limit lowered and the schema distrusted."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=timeout)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_SQLITE_VALUE_BYTES)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    connection.execute("PRAGMA trusted_schema = OFF")
    connection.execute("PRAGMA query_only = ON")
    return connection


def check_table(connection: sqlite3.Connection, path: Path, table: str, columns: Mapping[str, Column]) -> None:
    """Refuse ``table`` unless it is an ordinary table whose ``columns`` are stored and hold what they declare."""
    (sql,) = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if not str(sql or "").lstrip().upper().startswith("CREATE TABLE"):
        raise InputError(f"table {table!r} is not an ordinary table (a virtual table?)", file=str(path))
    stored = {row[1]: row[6] for row in connection.execute(f"PRAGMA table_xinfo(\"{table}\")")}
    for name in columns:
        if name not in stored:
            raise InputError(f"table {table!r} has no column {name!r}", file=str(path))
        if stored[name] != 0:  # 2 and 3: generated columns, computed on every read
            raise InputError(f"column {name!r} of table {table!r} is generated, not stored; "
                             "an MLflow database has no generated columns", file=str(path))
    condition = " OR ".join(column.problem_sql(name) for name, column in columns.items())
    selected = ", ".join(f"typeof(\"{n}\"), length(\"{n}\")" for n in columns)
    try:
        row = connection.execute(f"SELECT {selected} FROM \"{table}\" WHERE {condition} LIMIT 1").fetchone()
    except sqlite3.DataError:  # SQLite's own length limit: a value over MAX_SQLITE_VALUE_BYTES
        raise InputError(f"table {table!r} holds a value larger than {size_text(MAX_SQLITE_VALUE_BYTES)}",
                         file=str(path)) from None
    if row is None:
        return
    for (name, column), kind, length in zip(columns.items(), row[::2], row[1::2], strict=True):
        if kind == "null" and not column.nullable or kind not in column.types + ("null",):
            raise InputError(f"a value of column {name!r} in table {table!r} is {kind}, not "
                             f"{' or '.join(column.types)}", file=str(path))
        if length is not None and length > column.max_length:
            raise InputError(f"a value of column {name!r} in table {table!r} is {length:,} long, more than the "
                             f"{column.max_length:,} allowed", file=str(path))
