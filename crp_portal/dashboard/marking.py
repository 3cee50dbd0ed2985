"""Which writes mark rollups to recompute (see `rollups`), watched on the portal's sessions.

Two session events see every write to the tables the rollups count, so no feature has to
remember the dashboard:

- `after_flush`: objects added, changed or deleted through the session;
- `do_orm_execute`: ORM-enabled `insert()`, `update()` and `delete()` statements run with
  `db.session.execute`, which change rows no flush sees.

Both turn a row's values into marks with the same table, `WATCHED`, in the same
transaction as the write. `init_app` registers them (create_app calls it); until then
nothing is marked. SQL text, and statements run on `session.connection()`, pass neither
event: code that writes watched tables that way calls `rollups.mark` itself.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, cast

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, attributes
from sqlalchemy.sql.dml import DMLWhereBase, UpdateBase
from sqlalchemy.sql.elements import BindParameter

from crp_portal.advising.models import Appointment
from crp_portal.auth.models import User
from crp_portal.dashboard.rollup_models import MarkScope
from crp_portal.dashboard.rollups import local_day, mark
from crp_portal.events.models import Attendance, Event, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import Bed, BedAssignment, House, Room
from crp_portal.members.models import MemberProfile
from crp_portal.recovery.models import CheckIn, FollowUp
from crp_portal.terms.models import Term

# A statement touching more rows than this marks one rebuild rather than a mark a row.
MOST_MARKS = 2000
CHUNK = 500


@dataclass(frozen=True)
class Watched:
    """How changes to one table's rows mark the rollups.

    `changes`: the columns whose change matters (None: any change, and every added or
    removed row, does); `keys`: the columns the marks are made from; `marks(row)`: the marks
    for one row's `keys` values. A changed row is marked as it was and as it is.
    """

    changes: tuple[str, ...] | None
    keys: tuple[str, ...]
    marks: Callable[[Mapping], Iterable[tuple]]


def _appointment_marks(row: Mapping) -> Iterable[tuple]:
    day = local_day(row["starts_at"])
    return [
        (MarkScope.APPOINTMENTS, None, None, day),
        (MarkScope.MEMBER_WEEK, None, row["student_id"], day),
    ]


def _figures(_row: Mapping) -> Iterable[tuple]:
    """Figures read straight from these tables: only the remembered figures go stale."""
    return [(MarkScope.FIGURES, None, None, None)]


WATCHED: dict[type[Any], Watched] = {
    Rsvp: Watched(
        ("status", "event_id", "user_id"),
        ("event_id",),
        lambda row: [(MarkScope.EVENT, row["event_id"], None, None)],
    ),
    Attendance: Watched(
        None,
        ("event_id", "user_id"),
        lambda row: [(MarkScope.ATTENDEE, row["event_id"], row["user_id"], None)],
    ),
    Event: Watched(
        ("starts_at", "status", "kind", "headcount_only", "headcount"),
        ("id",),
        lambda row: [(MarkScope.EVENT, row["id"], None, None)],
    ),
    Appointment: Watched(
        ("starts_at", "status", "student_id"), ("starts_at", "student_id"), _appointment_marks
    ),
    CheckIn: Watched(
        ("week_start", "student_id"),
        ("student_id", "week_start"),
        lambda row: [(MarkScope.MEMBER_WEEK, None, row["student_id"], row["week_start"])],
    ),
    User: Watched(("name", "erased_at"), (), _figures),
    MemberProfile: Watched(("status", "joined_on", "user_id"), (), _figures),
    FollowUp: Watched(("status",), (), _figures),
    BedAssignment: Watched(("status", "term_id", "bed_id"), (), _figures),
    Bed: Watched(("active", "room_id"), (), _figures),
    Room: Watched(("house_id",), (), _figures),
    House: Watched(("active", "name"), (), _figures),
    Term: Watched(("name",), (), _figures),
}
_BY_TABLE = {model.__table__.name: (model, watched) for model, watched in WATCHED.items()}


def init_app(_app) -> None:
    """Watch the portal's sessions (`db.session`, shared by every app the process builds,
    hence registered once)."""
    for name, listener in (("after_flush", _mark_flushed), ("do_orm_execute", _mark_statement)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


# --- Objects flushed -------------------------------------------------------------------


def _mark_flushed(session, _flush_context) -> None:
    marks = set()
    for instance in chain(session.new, session.deleted):
        marks.update(_instance_marks(instance, added_or_removed=True))
    for instance in session.dirty:
        marks.update(_instance_marks(instance, added_or_removed=False))
    if marks:
        mark(marks, session)


def _instance_marks(instance, added_or_removed: bool) -> set[tuple]:
    watched = WATCHED.get(type(instance))
    if watched is None:
        return set()
    histories = {
        name: attributes.get_history(instance, name)
        for name in {*(watched.changes or ()), *watched.keys}
    }
    unchanged = watched.changes is not None and not any(
        histories[name].has_changes() for name in watched.changes
    )
    if unchanged and not added_or_removed:
        return set()
    now = {name: getattr(instance, name) for name in watched.keys}
    before = {
        # `deleted` is typed as a list or an empty tuple: here it is not empty.
        name: cast(list[Any], histories[name].deleted)[0] if histories[name].deleted else value
        for name, value in now.items()
    }
    return {*watched.marks(before), *watched.marks(now)}


# --- Statements ------------------------------------------------------------------------


def _mark_statement(state: ORMExecuteState):
    """Run a DML statement on a watched table, and mark the rows it touched.

    UPDATE and DELETE first read the rows their WHERE matches (locking them on PostgreSQL,
    so their values cannot change before the statement runs); an UPDATE reads them again
    after if it set a key column. If the statement then reports touching more rows than
    were read (one another transaction added in between), or the rows cannot be known
    (INSERT … SELECT, values computed in SQL), it marks a full rebuild: never too little.
    """
    statement = state.statement
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    model, watched = _BY_TABLE.get(
        getattr(cast(UpdateBase, statement).table, "name", None), (None, None)
    )
    if model is None or watched is None:
        return None
    if state.is_insert:
        rows = _inserted_rows(state, watched)
        result = state.invoke_statement()
        _mark_rows(state, watched, rows)
        return result
    set_names = _set_names(state) if state.is_update else None
    if state.is_update and not _touches(watched, set_names):
        return None
    if not watched.keys:
        result = state.invoke_statement()
        mark(watched.marks({}), state.session)
        return result
    table = model.__table__
    before = _rows_before(state, table, watched)
    result = state.invoke_statement()
    if before is None or _more_touched_than_read(state, result, before):
        _mark_rows(state, watched, None)
        return result
    rows = list(before.values())
    if state.is_update and (set_names is None or set_names & set(watched.keys)):
        rows += _rows_by_id(state, table, watched, list(before)).values()
    _mark_rows(state, watched, rows)
    return result


def _touches(watched: Watched, set_names: set[str] | None) -> bool:
    if watched.changes is None or set_names is None:
        return True
    return bool(set_names & set(watched.changes))


def _set_names(state: ORMExecuteState) -> set[str] | None:
    """The columns an UPDATE sets, from its values and parameters; None if unknown."""
    statement = state.statement
    names = {_name(key) for key in (getattr(statement, "_values", None) or {})}
    for parameters in _parameter_sets(state):
        names.update(parameters)
    if not names or None in names:
        return None
    return cast(set[str], names)


def _name(key) -> str | None:
    return key if isinstance(key, str) else getattr(key, "key", None)


def _parameter_sets(state: ORMExecuteState) -> list[Mapping]:
    parameters = state.parameters
    if not parameters:
        return []
    return [parameters] if isinstance(parameters, Mapping) else list(parameters)


def _rows_before(state: ORMExecuteState, table, watched: Watched) -> dict | None:
    """id → key values of the rows the statement will touch; None if they cannot be
    known (a DELETE run with many parameter sets)."""
    primary_key = _primary_key(table)
    if primary_key is None:
        return None
    columns = [primary_key, *(table.c[name] for name in watched.keys)]
    if state.is_executemany:
        ids = [parameters.get(primary_key.key) for parameters in _parameter_sets(state)]
        if not state.is_update or None in ids:
            return None
        return _rows_by_id(state, table, watched, ids, lock=True)
    query = select(*columns).with_for_update(of=table)
    where = cast(DMLWhereBase, state.statement).whereclause  # an UPDATE or a DELETE
    if where is not None:
        query = query.where(where)
    found = {}
    for row in state.session.execute(query, _where_parameters(state)):
        found[row[0]] = dict(zip(watched.keys, row[1:], strict=True))
        if len(found) > MOST_MARKS:
            return None
    return found


def _where_parameters(state: ORMExecuteState) -> Mapping:
    """The statement's parameters, for a WHERE that names `bindparam`s (the SELECT ignores
    the ones it does not name)."""
    sets = _parameter_sets(state)
    return dict(sets[0]) if len(sets) == 1 else {}


def _rows_by_id(state, table, watched: Watched, ids: list, lock: bool = False) -> dict:
    primary_key = _primary_key(table)
    columns = [primary_key, *(table.c[name] for name in watched.keys)]
    found = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(*columns).where(primary_key.in_(chunk))
        for row in state.session.execute(query.with_for_update(of=table) if lock else query):
            found[row[0]] = dict(zip(watched.keys, row[1:], strict=True))
    return found


def _primary_key(table):
    columns = list(table.primary_key.columns)
    return columns[0] if len(columns) == 1 else None


def _more_touched_than_read(state: ORMExecuteState, result, before: dict) -> bool:
    if state.is_executemany:
        return False
    touched = getattr(result, "rowcount", None)
    return touched is not None and touched >= 0 and touched > len(before)


def _inserted_rows(state: ORMExecuteState, watched: Watched) -> list[Mapping] | None:
    """The inserted rows' key values, from the statement's parameters and literal values;
    None if a key is missing or computed in SQL (INSERT … SELECT, a server default)."""
    if not watched.keys:
        return [{}]
    statement = state.statement
    if getattr(statement, "select", None) is not None or getattr(statement, "_multi_values", None):
        return None
    literal = {}
    for key, value in (getattr(statement, "_values", None) or {}).items():
        if not isinstance(value, BindParameter) or value.callable is not None:
            return None
        literal[_name(key)] = value.value
    rows: list[Mapping] = [
        {**literal, **parameters} for parameters in _parameter_sets(state) or [{}]
    ]
    if any(name not in row for row in rows for name in watched.keys):
        return None
    return rows


def _mark_rows(state: ORMExecuteState, watched: Watched, rows: list[Mapping] | None) -> None:
    marks = None if rows is None else {m for row in rows for m in watched.marks(row)}
    if marks is None or len(marks) > MOST_MARKS:
        marks = {(MarkScope.REBUILD, None, None, None)}
    mark(marks, state.session)


def _chunks(values: list, size: int = CHUNK):
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk
