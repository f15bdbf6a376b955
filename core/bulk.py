"""Bulk writes faster than the ORM's for the catalog's hot path, all through ``COPY``: inserts of plain rows,
of rows given field by field (the others take their defaults), of model objects (their ids drawn from the
sequence first when rows referring to them follow), and updates (``COPY`` into a temporary table, then one
``UPDATE … FROM`` it: Django's ``bulk_update`` builds a ``CASE`` per field and row, which PostgreSQL evaluates
in quadratic time, and a statement with a placeholder per value costs more to build and send than the rows)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone
from psycopg import sql

# Fields whose value, when it already has this type, is what PostgreSQL gets: Django's preparation of it is the
# identity (checked by exact class, so that a subclass preparing values its own way is never skipped).
_PLAIN_TYPES: dict[type[models.Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.UUIDField: uuid.UUID,
    models.DateTimeField: datetime,
}


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert ``rows`` (values in the order of ``fields``, given by attname) with ``COPY … FROM STDIN``."""
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    _copy(sql.Identifier(meta.db_table), columns, rows)


def _copy(table: sql.Composable, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(map(sql.Identifier, columns)))
    # Django's exceptions (IntegrityError, DataError…), as the ORM raises them
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def copy_create(objs: Sequence[models.Model], *, with_ids: bool = False) -> None:
    """Insert new objects (all of one model) with ``COPY``, their fields prepared as ``bulk_create`` prepares them
    (defaults, ``auto_now``). With ``with_ids`` each object first takes its primary key from the table's sequence,
    so that rows referring to it can be written next; without, the ids are not read back."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [field for field in meta.concrete_fields if not field.generated and (with_ids or field is not meta.pk)]
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    wrapper = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked once per value
    preparers = [(_reader(field), _preparer(field, wrapper)) for field in fields]
    rows = ([prepare(read(obj)) for read, prepare in preparers] for obj in objs)
    _copy(sql.Identifier(meta.db_table), [field.column for field in fields], rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


def copy_insert(model: type[models.Model], rows: Sequence[dict[str, object]]) -> None:
    """Insert rows given as ``{attname: value}`` with ``COPY``, without building model objects (ids are not read
    back). A field a row leaves out gets what a new object would: the current time for ``auto_now`` and
    ``auto_now_add``, else its default. Values are prepared as for ``bulk_create``."""
    if not rows:
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.generated and field is not meta.pk]
    wrapper, now = connections[DEFAULT_DB_ALIAS], timezone.now()
    readers: list[Callable[[dict], object]] = [
        (lambda row: now)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        else (lambda row, name=field.attname, default=field.get_default: row[name] if name in row else default())
        for field in fields
    ]
    preparers = [(read, _preparer(field, wrapper)) for read, field in zip(readers, fields, strict=True)]
    values = ([prepare(read(row)) for read, prepare in preparers] for row in rows)
    _copy(sql.Identifier(meta.db_table), [field.column for field in fields], values)


def update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` (attnames) of each object in ``objs`` (all of one model, all saved) in one ``UPDATE``, the new
    values copied first into a temporary table with the columns' own types (a value too long for its column is
    refused there, never cut)."""
    if not objs:
        return
    meta = objs[0]._meta
    pk = meta.pk
    targets = [meta.get_field(name) for name in fields]
    columns = [pk.column] + [field.column for field in targets]
    table, scratch = sql.Identifier(meta.db_table), sql.Identifier(f"bulk_update_{meta.db_table}")
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = v.{}").format(sql.Identifier(column), sql.Identifier(column)) for column in columns[1:]
    )
    wrapper = connections[DEFAULT_DB_ALIAS]
    preparers = [(attrgetter(field.attname), _preparer(field, wrapper)) for field in [pk, *targets]]
    rows = ([prepare(read(obj)) for read, prepare in preparers] for obj in objs)
    # a savepoint (or a transaction of its own): a failure leaves no temporary table behind
    with transaction.atomic(), connection.cursor() as cursor:
        create = sql.SQL("CREATE TEMPORARY TABLE {} AS SELECT {} FROM {} WITH NO DATA")
        cursor.execute(create.format(scratch, names, table))
        _copy(scratch, columns, rows)
        cursor.execute(
            sql.SQL("UPDATE {} AS t SET {} FROM {} AS v WHERE t.{} = v.{}").format(
                table, assignments, scratch, sql.Identifier(pk.column), sql.Identifier(pk.column)
            )
        )
        cursor.execute(sql.SQL("DROP TABLE {}").format(scratch))


def _reader(field: models.Field) -> Callable[[models.Model], object]:
    """The value ``field`` saves for a new object: its ``pre_save`` (defaults of ``auto_now`` fields)."""
    if type(field).pre_save is models.Field.pre_save:
        return attrgetter(field.attname)
    return lambda obj: field.pre_save(obj, True)


def _preparer(field: models.Field, wrapper) -> Callable[[object], object]:
    """``field.get_db_prep_save`` for ``wrapper``, skipped for values that need no preparation (those of the
    field's plain type, an aware datetime for a DateTimeField, None where the column takes NULL, an empty list
    for a JSONField). Values go to ``COPY`` in text form, where a JSON column reads the JSON text."""
    prepare = field.get_db_prep_save
    if type(field) is models.JSONField:  # an empty list, as most errors are, is the JSON text "[]" as it stands
        return lambda value: "[]" if type(value) is list and not value else prepare(value, wrapper)
    plain = _PLAIN_TYPES.get(type(field.target_field if type(field) is models.ForeignKey else field))
    if plain is None:
        return lambda value: prepare(value, wrapper)
    nullable = field.null
    if plain is datetime:
        return lambda value: (
            value
            if (type(value) is datetime and value.tzinfo is not None) or (value is None and nullable)
            else prepare(value, wrapper)
        )
    return lambda value: value if type(value) is plain or (value is None and nullable) else prepare(value, wrapper)
