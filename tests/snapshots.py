"""Arranged data built once per test process and database, then restored for each test.

Seeding the demo program through the services takes most of a second, and the journeys,
the focus walk and the page checks each start from it; a test of outcomes starts from a
world of a dozen people. Such a test now gets the rows its arrangement made from a
snapshot taken the first time this process built it on this database:

- SQLite: the database file the build left is kept and copied over the test's file.
- PostgreSQL: the rows of each table the build filled are copied into a schema of the
  snapshot's own (`crp_snapshot_<n>`: tests and the app read only the default schema)
  and inserted back, parents first; each sequence is set where the build left it, so the
  ids are the ones a fresh build gives. The worker's database, with the schema, is
  dropped when the run ends; a schema left by an earlier run of the same name is replaced.

A snapshot is taken right after the build on a database the test emptied, so restoring it
gives the rows building gives. What the build returns is kept with it: plain values (a
date, ids), never ORM objects, which belong to the session that loaded them. A build
arranged around "today" puts the day in its name, so it is built afresh after midnight.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text

from crp_portal import demo
from crp_portal.extensions import db
from crp_portal.timeutil import local_today

T = TypeVar("T")


@dataclass
class _Snapshot:
    result: object
    file: Path | None = None  # SQLite: the database file as the build left it
    schema: str = ""  # PostgreSQL: where the rows are kept
    restore_sql: str = ""  # PostgreSQL: one round trip that puts them back


class Snapshots:
    def __init__(self):
        self._taken: dict[tuple[str, str], _Snapshot] = {}

    def arranged(self, name: str, build: Callable[[], T]) -> T:
        """In an app context, on the test's emptied database: the rows `build()` makes
        and what it returns, built on this database once per process."""
        url = db.engine.url.render_as_string(hide_password=False)
        taken = self._taken.get((url, name))
        if taken is not None:
            self._restore(taken)
            return taken.result  # type: ignore[return-value]
        result = build()
        db.session.commit()
        db.session.remove()
        self._taken[(url, name)] = self._take(result, len(self._taken))
        return result

    def _take(self, result, number: int) -> _Snapshot:
        if db.engine.dialect.name == "sqlite":
            database = Path(db.engine.url.database)
            db.engine.dispose()  # the last connection to close folds the WAL into the file
            kept = database.with_name(f"snapshot-{number}.sqlite3")
            shutil.copyfile(database, kept)
            return _Snapshot(result, file=kept)
        return self._take_postgresql(result, f"crp_snapshot_{number}")

    def _take_postgresql(self, result, schema: str) -> _Snapshot:
        quote = db.engine.dialect.identifier_preparer.quote
        tables = db.metadata.sorted_tables  # parents before the tables that refer to them
        probe = " UNION ALL ".join(
            f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(table.name)})"
            for index, table in enumerate(tables)
        )
        with db.engine.begin() as connection:
            filled = [tables[index] for (index,) in connection.exec_driver_sql(probe)]
            sequences = connection.execute(
                text(
                    "SELECT sequencename, last_value FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            ).all()
            copies = [f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}"]
            copies += [
                f"CREATE TABLE {schema}.{quote(t.name)} AS SELECT * FROM {quote(t.name)}"
                for t in filled
            ]
            connection.exec_driver_sql("; ".join(copies))
        restores = []
        for table in sorted(filled, key=tables.index):
            columns = ", ".join(quote(column.name) for column in table.columns)
            restores.append(
                f"INSERT INTO {quote(table.name)} ({columns})"
                f" SELECT {columns} FROM {schema}.{quote(table.name)}"
            )
        restores += [f"SELECT setval('{quote(name)}', {int(value)})" for name, value in sequences]
        return _Snapshot(result, schema=schema, restore_sql="; ".join(restores))

    def _restore(self, taken: _Snapshot) -> None:
        db.session.remove()
        if taken.file is not None:
            database = Path(db.engine.url.database)
            db.engine.dispose()  # nothing may hold the file that is replaced
            for leftover in database.parent.glob(f"{database.name}-*"):
                leftover.unlink()  # -wal and -shm of the emptied database
            shutil.copyfile(taken.file, database)
        elif taken.restore_sql:
            with db.engine.begin() as connection:
                connection.exec_driver_sql(taken.restore_sql)


SNAPSHOTS = Snapshots()


def demo_program() -> date:
    """In an app context, on the test's emptied database: the demo program `flask
    seed-demo` makes, for today; returns the program's today. Seeding reads nothing from
    the app's settings that a test changes (the demo password is hashed with the testing
    defaults), so one snapshot serves every app on the database."""
    today = local_today()
    SNAPSHOTS.arranged(f"demo program {today.isoformat()}", lambda: demo.seed(today))
    return today
