"""The built-in ``postgres`` tech adapter (PRODUCT §6): a data product's storage components become tables and its
output ports views in one PostgreSQL schema per product major, in one database per environment; access goes to
NOLOGIN roles as desired state, and reverse provisioning reads the columns back."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from psycopg import errors, sql
from psycopg.types.json import Jsonb

from catalog.refs import parse_dp_entity_name, parse_urn
from config.env import parse_database_url
from core.problems import show, type_name
from provisioning.adapters.base import COMPONENT_DESCRIPTOR, AdapterRefusal, AdapterRequest, Backend, Outcome

__all__ = [
    "DEFAULT_DATABASE",
    "GRANTS_TABLE",
    "PostgresBackend",
    "database_name",
    "identifier",
    "role_name",
    "target_connection",
]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE = "meshforge_data"
# In PROVISIONING_POSTGRES_URL's database name: replaced by the environment's name.
ENVIRONMENT_PLACEHOLDER = "{environment}"
# The table an output port's view reads when no storage declares one for it: ``<view>_data`` (a view and a table
# cannot share a name in one schema).
DATA_TABLE_SUFFIX = "_data"
# Where the adapter keeps its own state in the target: the desired refs of each output port.
ADAPTER_SCHEMA = "meshforge_adapter"
GRANTS_TABLE = "output_port_grants"
CONNECT_TIMEOUT_SECONDS = 10
# DDL waits behind consumers' queries: a provision that cannot get its locks soon fails with the reason rather than
# queueing every reader of the table behind it.
LOCK_TIMEOUT = "10s"
STATEMENT_TIMEOUT = "60s"
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL silently truncates longer names, so two could become one
ROLE_PREFIX_RE = re.compile(r"[a-z][a-z0-9_]{0,15}")
REF_RE = re.compile(r"(user|group):(?:[^/:\s]+/)?([^/:\s]+)", re.IGNORECASE)
SUPPORTED_KINDS = ("storage", "outputport", "workload")
_VIEW_CHECK = "meshforge_view_check"

# OpenMetadata column types (the DPS ``dataType``, any case) and the PostgreSQL type each becomes, spelled as
# format_type() prints it, so that what a table has compares with what a contract says as text.
_PLAIN_TYPES = {
    "TINYINT": "smallint",
    "BYTEINT": "smallint",
    "SMALLINT": "smallint",
    "INT": "integer",
    "BIGINT": "bigint",
    "LONG": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "STRING": "text",
    "TEXT": "text",
    "MEDIUMTEXT": "text",
    "NTEXT": "text",
    "CLOB": "text",
    "DATE": "date",
    "TIME": "time without time zone",
    "TIMESTAMP": "timestamp without time zone",
    "DATETIME": "timestamp without time zone",
    "TIMESTAMPZ": "timestamp with time zone",
    "INTERVAL": "interval",
    "BINARY": "bytea",
    "VARBINARY": "bytea",
    "BLOB": "bytea",
    "MEDIUMBLOB": "bytea",
    "LONGBLOB": "bytea",
    "BYTES": "bytea",
    "BYTEA": "bytea",
    "JSON": "jsonb",
    "UUID": "uuid",
    "XML": "xml",
    "INET": "inet",
    "CIDR": "cidr",
    "MACADDR": "macaddr",
}
_NUMERIC_TYPES = frozenset({"NUMBER", "NUMERIC", "DECIMAL"})
_CHARACTER_TYPES = {"CHAR": "character", "VARCHAR": "character varying"}
_KNOWN_TYPES = sorted({*_PLAIN_TYPES, *_NUMERIC_TYPES, *_CHARACTER_TYPES, "ARRAY"})
_MAX_NUMERIC_PRECISION = 1000
_MAX_CHARACTER_LENGTH = 10_485_760
_CONSTRAINTS = ("NULL", "NOT_NULL", "UNIQUE", "PRIMARY_KEY")

# The way back (reverse provisioning): a PostgreSQL type, by its udt_name, as an OpenMetadata type. Where the DPS
# list has a name that comes back to the same PostgreSQL type (BLOB for bytea), that one.
_REVERSE_TYPES = {
    "int2": "SMALLINT",
    "int4": "INT",
    "int8": "BIGINT",
    "numeric": "NUMERIC",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "bool": "BOOLEAN",
    "text": "TEXT",
    "varchar": "VARCHAR",
    "bpchar": "CHAR",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPZ",
    "interval": "INTERVAL",
    "bytea": "BLOB",
    "json": "JSON",
    "jsonb": "JSON",
    "uuid": "UUID",
    "xml": "XML",
    "inet": "INET",
    "cidr": "CIDR",
    "macaddr": "MACADDR",
}
_TYPE_KEYS = (
    "dataType",
    "dataLength",
    "precision",
    "scale",
    "arrayDataType",
    "constraint",
    "dataTypeDisplay",
    "jsonSchema",
)


# --- names ----------------------------------------------------------------------------------------------------


def identifier(text: str) -> str:
    """A name made from descriptor parts: lower case, anything outside ``[a-z0-9_]`` replaced by ``_``, at most 63
    bytes. It is still always quoted where it is used."""
    return re.sub(r"[^a-z0-9_]", "_", text.lower())[:MAX_IDENTIFIER_BYTES]


def role_prefix() -> str:
    prefix = settings.PROVISIONING_POSTGRES_ROLE_PREFIX
    if not isinstance(prefix, str) or not ROLE_PREFIX_RE.fullmatch(prefix):
        raise ImproperlyConfigured(
            f"PROVISIONING_POSTGRES_ROLE_PREFIX: expected [a-z][a-z0-9_]{{0,15}}, got {prefix!r}"
        )
    return prefix


def role_name(ref: str, prefix: str) -> str:
    """The NOLOGIN role of ``user:<name>`` or ``group:[<namespace>/]<name>``: ``<prefix>user_<name>`` or
    ``<prefix>group_<name>``. Backstage names ignore case; any other change to the name (``.`` or ``-`` made ``_``,
    a name cut to fit 63 bytes) appends a hash of the name, so that two identities never share a role."""
    match = REF_RE.fullmatch(ref)
    if match is None:
        raise ValueError(f"{ref!r} is not user:<name> or group:<name>")
    kind, name = match.group(1).lower(), match.group(2).lower()
    head = f"{prefix}{kind}_"
    clean = re.sub(r"[^a-z0-9_]", "_", name)
    if clean == name and len(head) + len(clean) <= MAX_IDENTIFIER_BYTES:
        return head + clean
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{head}{clean[: MAX_IDENTIFIER_BYTES - len(head) - len(digest) - 1]}_{digest}"


def _name_problem(name: object, where: str) -> str | None:
    """Why ``name`` cannot name a table, view or column (None when it can): quoted, any text but NUL fits."""
    if not isinstance(name, str) or not name.strip():
        return f"{where}: must be a non-empty string, not {show(name) if isinstance(name, str) else type_name(name)}"
    if "\x00" in name:
        return f"{where}: {show(name)} contains a NUL character"
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        return f"{where}: {show(name)} is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes"
    return None


# --- the descriptor, read into what the database gets ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # built from the fixed names above and whole numbers only, so safe to splice as SQL
    constraint: str = ""  # NOT_NULL, UNIQUE, PRIMARY_KEY or ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]


@dataclass
class Plan:
    """What one component means in the target: its environment's database, its schema, and its tables (storage) or
    view (output port; with the table it keeps when nothing else holds its data)."""

    kind: str
    component_id: str
    schema: str
    environment: str = ""
    tables: list[Table] = field(default_factory=list)
    view: str = ""
    contract: tuple[Column, ...] = ()
    view_sql: str | None = None
    source: Table | None = None  # the storage table a view without viewSql selects from
    dependency_tables: list[Table] = field(default_factory=list)  # what viewSql may read before storage exists


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _sql_type(data_type: object, column: dict, where: str, problems: list[str], *, element: bool = False) -> str | None:
    """The PostgreSQL type of an OpenMetadata column type, or None after saying why there is none."""
    label = f"{where}: column {show(column.get('name'))}"
    if not isinstance(data_type, str) or not data_type.strip():
        key = "arrayDataType" if element else "dataType"
        problems.append(f"{label}: {key} must be a type name, not {type_name(data_type)}")
        return None
    upper = data_type.strip().upper()
    if upper in _PLAIN_TYPES:
        return _PLAIN_TYPES[upper]
    if upper in _NUMERIC_TYPES:
        precision, scale = column.get("precision"), column.get("scale")
        if precision is None:
            if scale is not None:
                problems.append(f"{label}: {upper} has a scale but no precision")
                return None
            return "numeric"
        p, s = _whole(precision), _whole(0 if scale is None else scale)
        if p is None or not 1 <= p <= _MAX_NUMERIC_PRECISION:
            problems.append(f"{label}: precision must be a whole number from 1 to 1000, not {show(precision)}")
            return None
        if s is None or not 0 <= s <= p:
            problems.append(f"{label}: scale must be a whole number from 0 to the precision ({p}), not {show(scale)}")
            return None
        return f"numeric({p},{s})"
    if upper in _CHARACTER_TYPES:
        length = _whole(column.get("dataLength"))
        if length is None or not 1 <= length <= _MAX_CHARACTER_LENGTH:
            problems.append(
                f"{label}: {upper} needs a dataLength from 1 to {_MAX_CHARACTER_LENGTH}, not "
                f"{show(column.get('dataLength'))}"
            )
            return None
        return f"{_CHARACTER_TYPES[upper]}({length})"
    if upper == "ARRAY" and not element:
        inner = _sql_type(column.get("arrayDataType"), column, where, problems, element=True)
        return f"{inner}[]" if inner else None
    problems.append(
        f"{label}: data type {show(data_type)} has no PostgreSQL type in this adapter"
        + ("" if upper != "ARRAY" else " (an array of arrays)")
        + f"; use one of {', '.join(_KNOWN_TYPES)}"
    )
    return None


def _columns(schema: object, where: str, problems: list[str]) -> tuple[Column, ...]:
    """The columns of an OpenMetadata ``schema`` list; every problem is reported, the good columns kept."""
    if not isinstance(schema, list):
        problems.append(f"{where}: must be a list of columns, not {type_name(schema)}")
        return ()
    columns: list[Column] = []
    seen: set[str] = set()
    for index, column in enumerate(schema):
        at = f"{where}[{index}]"
        if not isinstance(column, dict):
            problems.append(f"{at}: must be an object, not {type_name(column)}")
            continue
        name = column.get("name")
        if problem := _name_problem(name, f"{at}.name"):
            problems.append(problem)
            continue
        if name in seen:
            problems.append(f"{at}: column {show(name)} is listed twice")
            continue
        seen.add(name)
        sql_type = _sql_type(column.get("dataType"), column, where, problems)
        constraint = column.get("constraint")
        constraint = constraint.upper() if isinstance(constraint, str) else constraint
        if constraint is not None and constraint not in _CONSTRAINTS:
            problems.append(f"{at}: constraint {show(constraint)} is not one of {', '.join(_CONSTRAINTS)}")
            continue
        if sql_type is not None:
            columns.append(Column(name, sql_type, "" if constraint in (None, "NULL") else constraint))
    return tuple(columns)


def _short_name(component: dict) -> str:
    """The component's part of its id (``urn:dmb:cmp:<d>:<n>:<major>:<component>``), as an identifier."""
    parts = parse_urn(component.get("id"))
    if parts is not None and parts.component:
        return identifier(parts.component)
    return identifier(str(component.get("name") or component.get("id") or ""))


def _named(specific: dict, keys: tuple[str, ...], default: str, problems: list[str]) -> str:
    """The object name ``specific`` gives under the first of ``keys`` present, else ``default``."""
    for key in keys:
        if key in specific and specific[key] is not None:
            if problem := _name_problem(specific[key], f"specific.{key}"):
                problems.append(problem)
                return default
            return specific[key]
    return default


def _schema_of(data_product: dict, problems: list[str]) -> str:
    """``<domain>_<name>_<major>``: from the product's id, which never changes (the ``name`` field of Meshforge's
    descriptors is the title people edit), else from the ``domain``, ``name`` and ``version`` fields."""
    parts = parse_urn(data_product.get("id"))
    if parts is not None and parts.component is None:
        domain, name, major = parts.domain, parts.name, parts.major
    else:
        domain, name, version = data_product.get("domain"), data_product.get("name"), data_product.get("version")
        match = re.match(r"([0-9]+)\.", version) if isinstance(version, str) else None
        if not (isinstance(domain, str) and domain and isinstance(name, str) and name and match):
            problems.append(
                "dataProduct: needs an id urn:dmb:dp:<domain>:<name>:<major>, or domain, name and a version "
                "<major>.<minor>.<patch>, to name its schema"
            )
            return ""
        major = match.group(1)
    schema = identifier(f"{domain}_{name}_{major}")
    if schema.startswith("pg_"):
        problems.append(f"dataProduct: its schema would be {show(schema)}, and PostgreSQL reserves names with pg_")
    return schema


def _environment_of(data_product: dict, problems: list[str]) -> str:
    """The descriptor's ``environment``: it chooses the database, so a request without a known one is refused."""
    environment = data_product.get("environment")
    environments = settings.MESHFORGE_ENVIRONMENTS
    if not isinstance(environment, str) or not environment:
        problems.append(
            "dataProduct.environment: the descriptor names no environment; the postgres adapter keeps each "
            f"environment in its own database (one of {', '.join(environments)})"
        )
        return ""
    if environment not in environments:
        problems.append(
            f"dataProduct.environment: {show(environment)} is not an environment of this Meshforge "
            f"({', '.join(environments)})"
        )
        return ""
    return environment


def _declared_tables(component: dict, problems: list[str]) -> list[Table]:
    """A storage component's own tables: ``specific.tables`` (``[{tableName, schema}]``, as Witboost's storage
    adapters take them) and one table for its ``dataContract.schema`` (named ``specific.tableName``,
    ``specific.table`` or after the component)."""
    specific = component.get("specific") if isinstance(component.get("specific"), dict) else {}
    tables: list[Table] = []
    listed = specific.get("tables")
    if listed is not None and not isinstance(listed, list):
        problems.append(f"specific.tables: must be a list of {{tableName, schema}}, not {type_name(listed)}")
        listed = []
    for index, entry in enumerate(listed or []):
        at = f"specific.tables[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{at}: must be an object with tableName and schema, not {type_name(entry)}")
            continue
        if problem := _name_problem(entry.get("tableName"), f"{at}.tableName"):
            problems.append(problem)
            continue
        tables.append(Table(entry["tableName"], _columns(entry.get("schema"), f"{at}.schema", problems)))
    contract = component.get("dataContract")
    schema = contract.get("schema") if isinstance(contract, dict) else None
    if schema:
        name = _named(specific, ("tableName", "table"), _short_name(component), problems)
        tables.append(Table(name, _columns(schema, "dataContract.schema", problems)))
    names = [table.name for table in tables]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append(f"specific.tables: table {show(name)} is described twice")
    return tables


def _storage_tables(component: dict, by_id: dict[str, dict], problems: list[str]) -> list[Table]:
    """A storage component's tables: its declared ones; when it declares none (the built-in storage template asks
    for no columns), a ``<view>_data`` table with the contract's columns for each output port it backs."""
    declared = _declared_tables(component, problems)
    if declared:
        return declared
    return [
        _data_table(port, [])
        for port in by_id.values()
        if _kind(port) == "outputport" and (_backing_storage(port, by_id) or {}).get("id") == component.get("id")
    ]


def _backing_storage(port: dict, by_id: dict[str, dict]) -> dict | None:
    """The storage that keeps a ``<view>_data`` table for an output port without ``viewSql``: the nearest storage
    it reaches, when none it reaches declares tables of its own (those are what its view reads then)."""
    specific = port.get("specific") if isinstance(port.get("specific"), dict) else {}
    if specific.get("viewSql") is not None:
        return None
    reached = _storages_reached(port, by_id)
    if not reached or any(_declared_tables(storage, []) for storage in reached):
        return None
    return reached[0]


def _view_name(port: dict, problems: list[str]) -> str:
    specific = port.get("specific") if isinstance(port.get("specific"), dict) else {}
    return _named(specific, ("viewName", "view"), _short_name(port), problems)


def _contract_columns(component: dict, problems: list[str]) -> tuple[Column, ...]:
    contract = component.get("dataContract")
    schema = contract.get("schema") if isinstance(contract, dict) else None
    return _columns([] if schema is None else schema, "dataContract.schema", problems)


def _data_table(port: dict, problems: list[str]) -> Table:
    """The table that holds an output port's rows when no storage declares one: ``specific.tableName`` (or
    ``table``) if given, else ``<view>_data``, with the port's contract columns."""
    specific = port.get("specific") if isinstance(port.get("specific"), dict) else {}
    view = _view_name(port, [])
    default = f"{view}{DATA_TABLE_SUFFIX}"
    name = _named(specific, ("tableName", "table"), default, problems)
    if name == default and (problem := _name_problem(default, "specific.viewName")):
        problems.append(f"{problem} once {DATA_TABLE_SUFFIX} is added for its table; name the table in tableName")
    return Table(name, _contract_columns(port, []))


def _storages_reached(component: dict, by_id: dict[str, dict]) -> list[dict]:
    """The storage components ``component`` depends on, directly or through workloads and other ports."""
    found: list[dict] = []
    seen = {component.get("id")}
    queue = list(_depends_on(component))
    while queue:
        target_id = queue.pop(0)
        if target_id in seen or target_id not in by_id:
            continue
        seen.add(target_id)
        target = by_id[target_id]
        if _kind(target) == "storage":
            found.append(target)
        else:
            queue.extend(_depends_on(target))
    return found


def _depends_on(component: dict) -> list[str]:
    depends = component.get("dependsOn")
    return [item for item in depends if isinstance(item, str)] if isinstance(depends, list) else []


def _kind(component: dict) -> str:
    kind = component.get("kind")
    return kind.lower() if isinstance(kind, str) else ""


def _plan(request: AdapterRequest) -> tuple[Plan | None, list[str]]:
    """Read the component of ``request`` into a :class:`Plan`; every problem the descriptor alone shows."""
    problems: list[str] = []
    component = request.component
    if component is None:
        return None, [f"componentIdToProvision: {show(request.component_id)} is not a component of the data product"]
    kind = _kind(component)
    if kind not in SUPPORTED_KINDS:
        return None, [
            f"kind: {show(component.get('kind'))} is not provisioned by the postgres adapter; it takes "
            f"{', '.join(SUPPORTED_KINDS)}"
        ]
    components = request.data_product.get("components")
    by_id = {
        item["id"]: item
        for item in (components if isinstance(components, list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    for target in _depends_on(component):
        if target not in by_id:
            problems.append(f"dependsOn: {show(target)} is not a component of the data product")
    plan = Plan(
        kind=kind,
        component_id=request.component_id or "",
        schema=_schema_of(request.data_product, problems),
        environment=_environment_of(request.data_product, problems),
    )
    if kind == "storage":
        plan.tables = _storage_tables(component, by_id, problems)
    elif kind == "outputport":
        _plan_output_port(plan, component, by_id, problems)
    return plan, problems


def _plan_output_port(plan: Plan, component: dict, by_id: dict[str, dict], problems: list[str]) -> None:
    specific = component.get("specific") if isinstance(component.get("specific"), dict) else {}
    plan.view = _view_name(component, problems)
    plan.contract = _contract_columns(component, problems)
    # The tables of the storage it depends on: viewSql may read them (they are made in the rolled-back check), a
    # view without viewSql selects from one of them.
    reached = _storages_reached(component, by_id)
    for storage in reached:
        plan.dependency_tables += _storage_tables(storage, by_id, [])
    view_sql = specific.get("viewSql")
    if view_sql is not None:
        if not isinstance(view_sql, str) or not view_sql.strip():
            problems.append(f"specific.viewSql: must be one SELECT statement, not {type_name(view_sql)}")
        else:
            plan.view_sql = view_sql.strip().rstrip(";").rstrip()
        return
    if not plan.contract:
        problems.append("dataContract.schema: lists no columns, and there is no specific.viewSql: the view needs one")
        return
    if not reached or _backing_storage(component, by_id) is not None:
        # Its rows live in a <view>_data table: the port's own when no storage is behind it, else the storage's.
        data_table = _data_table(component, problems)
        _clashes(data_table.name, component, by_id, problems)
        if not reached:
            plan.tables = [data_table]
            plan.source = data_table
            return
    wanted = _named(specific, ("tableName", "table"), "", problems)
    tables = plan.dependency_tables
    if not tables:
        problems.append(
            "dependsOn: names no storage component with tables (directly or through workloads), and there is no "
            "specific.viewSql: the view has nothing to select from"
        )
        return
    by_name = {table.name: table for table in tables}
    if wanted:
        source = by_name.get(wanted)
        if source is None:
            problems.append(
                f"specific.tableName: {show(wanted)} is not a table of the storage it depends on "
                f"({', '.join(show(name) for name in by_name)})"
            )
            return
    elif f"{plan.view}{DATA_TABLE_SUFFIX}" in by_name:
        source = by_name[f"{plan.view}{DATA_TABLE_SUFFIX}"]
    elif plan.view in by_name:
        source = by_name[plan.view]
    elif len(tables) == 1:
        source = tables[0]
    else:
        problems.append(
            "specific.tableName: the storage it depends on has tables "
            f"{', '.join(show(name) for name in by_name)}; name the one the view selects from"
        )
        return
    plan.source = source
    have = {column.name for column in source.columns}
    for index, column in enumerate(plan.contract):
        if column.name not in have:
            problems.append(
                f"dataContract.schema[{index}]: column {show(column.name)} is not a column of table {show(source.name)}"
            )


def _clashes(table: str, port: dict, by_id: dict[str, dict], problems: list[str]) -> None:
    """A port's data table must not take the name of another port's view (one schema holds both)."""
    for other in by_id.values():
        if other.get("id") != port.get("id") and _kind(other) == "outputport" and _view_name(other, []) == table:
            problems.append(
                f"specific.viewName: the table of this port's rows, {show(table)}, would have the name of the view of "
                f"{other.get('id')}; name the table in specific.tableName"
            )


# --- the target database ----------------------------------------------------------------------------------------


@functools.cache
def _libpq_keywords() -> frozenset[str]:
    return frozenset(option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults())


def _libpq_only(params: dict) -> dict:
    return {key: value for key, value in params.items() if key in _libpq_keywords() and value not in (None, "")}


def database_name(base: str, environment: str) -> str:
    """The database of ``environment`` when the first environment's is ``base``: ``base`` itself for the first
    environment, else ``<base>_<environment>``; a ``base`` holding ``{environment}`` has it replaced instead."""
    if ENVIRONMENT_PLACEHOLDER in base:
        name = base.replace(ENVIRONMENT_PLACEHOLDER, environment)
    elif environment == settings.MESHFORGE_ENVIRONMENTS[0]:
        return base
    else:
        name = f"{base}_{environment.replace('-', '_')}"
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise ImproperlyConfigured(
            f"the postgres adapter's database for environment {environment!r} would be {name!r}, longer than "
            f"PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes: shorten the database name of PROVISIONING_POSTGRES_URL"
        )
    return name


def _target_params(environment: str | None) -> tuple[dict, dict | None]:
    """libpq parameters of the environment's target database (the first environment's when None) and, when it is a
    database Meshforge names and creates on first use, the parameters of a database to create it from (the default
    server's, or the configured URL's own database)."""
    environment = environment or settings.MESHFORGE_ENVIRONMENTS[0]
    url = settings.PROVISIONING_POSTGRES_URL
    if url:
        entry = parse_database_url("PROVISIONING_POSTGRES_URL", url)
        configured = _libpq_only(
            {
                **entry["OPTIONS"],
                "dbname": entry["NAME"],
                "user": entry["USER"],
                "password": entry["PASSWORD"],
                "host": entry["HOST"],
                "port": entry["PORT"],
            }
        )
        name = database_name(entry["NAME"], environment)
        # What the URL names (itself, or through {environment}) is the operator's to create; <name>_<env> is ours.
        ours = name != entry["NAME"] and ENVIRONMENT_PLACEHOLDER not in entry["NAME"]
        return {**configured, "dbname": name}, (configured if ours else None)
    server = _default_server_params()
    return {**server, "dbname": database_name(DEFAULT_DATABASE, environment)}, server


def _default_server_params() -> dict:
    """How Django reaches ``DATABASES["default"]`` (for the embedded server this starts it), without Django's own
    connection options."""
    from django.db import connections

    return _libpq_only(connections["default"].get_connection_params())


def _connect(params: dict) -> psycopg.Connection:
    # A connect_timeout or application_name of the URL's own wins over ours.
    options = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "meshforge-postgres-adapter", **params}
    return psycopg.connect(**options, autocommit=True, prepare_threshold=None)


def _create_database(name: str, through: dict) -> bool:
    """Create the database ``name`` through a connection to ``through``; False when it already existed."""
    with _connect(through) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            logger.info("created the postgres adapter's database %s", name)
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            pass  # created by a concurrent call: what we wanted
    return True


@contextmanager
def target_connection(environment: str | None = None) -> Iterator[psycopg.Connection]:
    """A new autocommit connection to the target database of ``environment`` (default: the first environment),
    closed on exit: nothing stays open between calls. A database Meshforge names is created on first use."""
    params, through = _target_params(environment)
    try:
        conn = _connect(params)
    except psycopg.OperationalError:
        # Only a missing database of our own naming is ours to fix; any other reason stands. A concurrent first
        # call may have created it since this one failed to connect: either way, connect again (once).
        if through is None:
            raise
        _create_database(params["dbname"], through)
        conn = _connect(params)
    with conn:
        yield conn


def _limit(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(STATEMENT_TIMEOUT)))


def _lock(conn: psycopg.Connection, *key: str) -> None:
    """A transaction-scoped advisory lock on ``key``. Callers take them in the order component, view, schema."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [json.dumps(["meshforge", *key])])


def _ensure_schema(conn: psycopg.Connection, schema: str) -> bool:
    """Create ``schema`` unless it exists; True when created. A concurrent creator wins quietly."""
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone():
        return False
    try:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    except (errors.DuplicateSchema, errors.UniqueViolation):
        return False
    return True


def _ensure_grants_table(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT to_regclass(%s)", [f'"{ADAPTER_SCHEMA}"."{GRANTS_TABLE}"']).fetchone()[0]:
        return
    try:
        with conn.transaction():
            _ensure_schema(conn, ADAPTER_SCHEMA)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (schema_name text NOT NULL, view_name text NOT NULL, "
                    "refs jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
                    "PRIMARY KEY (schema_name, view_name))"
                ).format(sql.Identifier(ADAPTER_SCHEMA, GRANTS_TABLE))
            )
    except (errors.DuplicateTable, errors.UniqueViolation):
        pass  # created by a concurrent call


def _relation(conn: psycopg.Connection, schema: str, name: str) -> tuple[int, str] | None:
    """The oid and relkind of ``schema.name``, or None."""
    row = conn.execute(
        "SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
        [schema, name],
    ).fetchone()
    return (row[0], row[1]) if row else None


def _attributes(conn: psycopg.Connection, oid: int) -> dict[str, str]:
    """Column name → type as format_type() prints it, in column order."""
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [oid],
    ).fetchall()
    return dict(rows)


def _qualified(conn: psycopg.Connection, schema: str, name: str) -> str:
    return sql.Identifier(schema, name).as_string(conn)


def _kind_word(relkind: str) -> str:
    return {"r": "table", "v": "view", "m": "materialized view", "p": "table"}.get(relkind, "relation")


class _Failed(Exception):
    """The target refused what the component needs: the operation ends FAILED with this reason."""


class _Logs:
    """``Log`` objects of a ProvisioningStatus, also sent to the Python log."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.entries: list[dict] = []

    def add(self, level: str, message: str) -> None:
        timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.entries.append({"timestamp": timestamp, "level": level, "message": message, "phase": self.phase})
        logger.log(logging.WARNING if level in ("WARNING", "ERROR") else logging.INFO, "postgres adapter: %s", message)

    def info(self, message: str) -> None:
        self.add("INFO", message)

    def warning(self, message: str) -> None:
        self.add("WARNING", message)

    def error(self, message: str) -> None:
        self.add("ERROR", message)


def _database_reason(exc: psycopg.Error) -> str:
    diag = exc.diag
    reason = diag.message_primary or str(exc).strip()
    if diag.message_detail:
        reason += f" ({diag.message_detail})"
    return reason


# --- tables and views -------------------------------------------------------------------------------------------


def _column_definition(column: Column, *, in_primary_key: bool) -> sql.Composed:
    parts: list[sql.Composable] = [sql.Identifier(column.name), sql.SQL(column.sql_type)]
    if column.constraint == "NOT_NULL" or (column.constraint == "PRIMARY_KEY" and not in_primary_key):
        parts.append(sql.SQL("NOT NULL"))
    if column.constraint == "UNIQUE":
        parts.append(sql.SQL("UNIQUE"))
    return sql.SQL(" ").join(parts)


def _provision_table(conn: psycopg.Connection, schema: str, table: Table, logs: _Logs) -> None:
    """CREATE TABLE, or ADD COLUMN what the contract added. Nothing is dropped or retyped: that would lose data."""
    name = _qualified(conn, schema, table.name)
    found = _relation(conn, schema, table.name)
    key = [column.name for column in table.columns if column.constraint == "PRIMARY_KEY"]
    if found is None:
        definitions = [_column_definition(column, in_primary_key=True) for column in table.columns]
        if key:
            definitions.append(
                sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(sql.Identifier(name) for name in key))
            )
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                sql.Identifier(schema, table.name), sql.SQL(", ").join(definitions)
            )
        )
        described = ", ".join(f"{column.name} {column.sql_type}" for column in table.columns) or "no columns"
        logs.info(f"created table {name} ({described})" + (f", primary key ({', '.join(key)})" if key else ""))
        return
    oid, relkind = found
    if relkind not in ("r", "p"):
        raise _Failed(f"{name} exists and is a {_kind_word(relkind)}, not a table")
    existing = _attributes(conn, oid)
    added = [column for column in table.columns if column.name not in existing]
    for column in added:
        # An existing table keeps its primary key; a new key column is at least NOT NULL.
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}").format(
                sql.Identifier(schema, table.name), _column_definition(column, in_primary_key=False)
            )
        )
    if added:
        logs.info(f"table {name}: added columns {', '.join(f'{c.name} {c.sql_type}' for c in added)}")
    else:
        logs.info(f"table {name}: unchanged, it has every column of the contract")
    for column in table.columns:
        if column.name in existing and existing[column.name] != column.sql_type:
            logs.warning(
                f"table {name}: column {column.name} is {existing[column.name]}, the contract says "
                f"{column.sql_type}; left as it is (changing a column's type can lose data)"
            )
    kept = [column for column in existing if column not in {c.name for c in table.columns}]
    if kept:
        logs.info(
            f"table {name}: columns {', '.join(kept)} are no longer in the contract and were kept with their data"
        )


def _replace_view(conn: psycopg.Connection, schema: str, view: str, query: sql.Composable, logs: _Logs) -> None:
    """CREATE OR REPLACE VIEW, or DROP and CREATE when the columns changed in a way REPLACE refuses (renamed,
    retyped, dropped or moved). Never CASCADE: a view that depends on this one makes the provision fail."""
    name = _qualified(conn, schema, view)
    found = _relation(conn, schema, view)
    before: dict[str, str] | None = None
    if found is not None:
        if found[1] != "v":
            raise _Failed(f"{name} exists and is a {_kind_word(found[1])}, not a view")
        before = _attributes(conn, found[0])
    target = sql.Identifier(schema, view)
    try:
        with conn.transaction():
            _execute_one(conn, sql.SQL("CREATE OR REPLACE VIEW {} AS ").format(target) + query)
        recreated = False
    except (errors.InvalidTableDefinition, errors.FeatureNotSupported, errors.DatatypeMismatch):
        conn.execute(sql.SQL("DROP VIEW {}").format(target))
        _execute_one(conn, sql.SQL("CREATE VIEW {} AS ").format(target) + query)
        recreated = True
    after = _attributes(conn, _relation(conn, schema, view)[0])
    columns = ", ".join(f"{column} {kind}" for column, kind in after.items())
    if before is None:
        logs.info(f"created view {name} ({columns})")
    elif recreated:
        logs.info(f"re-created view {name}: its columns changed from ({_listed(before)}) to ({columns})")
    elif before != after:
        logs.info(f"replaced view {name}: columns ({_listed(before)}) are now ({columns})")
    else:
        logs.info(f"replaced view {name}, same columns ({columns})")


def _execute_one(conn: psycopg.Connection, statement: sql.Composable) -> None:
    """Run a statement that embeds ``viewSql`` as exactly one statement. Without parameters psycopg uses the simple
    query protocol, which would run ``SELECT 1; DROP TABLE t`` as two; a binary result forces the extended
    protocol, which refuses more than one ("cannot insert multiple commands into a prepared statement")."""
    conn.execute(statement, binary=True)


def _listed(columns: dict[str, str]) -> str:
    return ", ".join(f"{column} {kind}" for column, kind in columns.items())


def _source_query(conn: psycopg.Connection, plan: Plan) -> sql.Composed:
    """SELECT of the contract's columns from the source table, each cast to its contract type where the table's
    differs, so the view has exactly the contract's columns."""
    assert plan.source is not None
    name = _qualified(conn, plan.schema, plan.source.name)
    found = _relation(conn, plan.schema, plan.source.name)
    if found is None:
        raise _Failed(f"table {name} does not exist: provision the storage component it belongs to first")
    have = _attributes(conn, found[0])
    missing = [column.name for column in plan.contract if column.name not in have]
    if missing:
        raise _Failed(f"table {name} has no column {', '.join(missing)}: provision its storage component again")
    selected = []
    for column in plan.contract:
        if have[column.name] == column.sql_type:
            selected.append(sql.Identifier(column.name))
        else:
            selected.append(
                sql.SQL("CAST({} AS {}) AS {}").format(
                    sql.Identifier(column.name), sql.SQL(column.sql_type), sql.Identifier(column.name)
                )
            )
    return sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(selected), sql.Identifier(plan.schema, plan.source.name)
    )


def _view_sql_problems(conn: psycopg.Connection, plan: Plan) -> list[str]:
    """Check ``specific.viewSql`` on the target without changing it: in a transaction that is rolled back, with the
    schema and the tables of the storage it depends on made if missing and the schema first in search_path, it must
    PREPARE as one statement, plan as a SELECT that writes and locks nothing, read only relations of the data
    product's schema (the view runs with its owner's rights: anything else would hand consumers other data), and
    return the contract's columns."""
    assert plan.view_sql is not None
    where = "specific.viewSql"
    stage = "setup"
    problems: list[str] = []
    try:
        with conn.transaction(force_rollback=True):
            _limit(conn)
            _ensure_schema(conn, plan.schema)
            for table in plan.dependency_tables:
                _provision_table(conn, plan.schema, table, _Logs("validate"))
            stage = "parse"
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(plan.schema)))
            # PREPARE parses and analyses the statement and never runs it.
            _execute_one(conn, sql.SQL("PREPARE {} AS ").format(sql.Identifier(_VIEW_CHECK)) + sql.SQL(plan.view_sql))
            stage = "plan"
            explained = conn.execute(
                sql.SQL("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {}").format(sql.Identifier(_VIEW_CHECK))
            ).fetchone()[0]
            nodes = list(_plan_nodes(explained))
            if any(node.get("Node Type") == "ModifyTable" for node in nodes):
                return [f"{where}: must be one SELECT; this one writes data (INSERT, UPDATE, DELETE or MERGE)"]
            if any(node.get("Node Type") == "LockRows" for node in nodes):
                return [f"{where}: must be one SELECT that locks nothing; this one locks rows (FOR UPDATE/SHARE)"]
            outside = {
                (node.get("Schema"), node["Relation Name"])
                for node in nodes
                if "Relation Name" in node and node.get("Schema") != plan.schema
            }
            stage = "view"
            _execute_one(
                conn,
                sql.SQL("CREATE TEMPORARY VIEW {} AS ").format(sql.Identifier(_VIEW_CHECK)) + sql.SQL(plan.view_sql),
            )
            oid = conn.execute("SELECT %s::regclass::oid", [f"pg_temp.{_VIEW_CHECK}"]).fetchone()[0]
            # Relations the planner pruned (WHERE false) are still referenced by the stored view.
            outside |= set(
                conn.execute(
                    "SELECT DISTINCT n.nspname, c.relname FROM pg_rewrite r "
                    "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "
                    "AND d.refclassid = 'pg_class'::regclass "
                    "JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE r.ev_class = %s AND c.oid <> %s AND n.nspname <> %s",
                    [oid, oid, plan.schema],
                ).fetchall()
            )
            for schema, relation in sorted(outside, key=lambda item: (str(item[0]), str(item[1]))):
                problems.append(
                    f"{where}: reads {schema}.{relation}, outside the data product's schema {plan.schema}; a view "
                    "may read only its own data product's tables"
                )
            columns = _attributes(conn, oid)
    except (_Failed, psycopg.Error) as exc:
        reason = str(exc) if isinstance(exc, _Failed) else _database_reason(exc)
        what = {
            "setup": "could not be checked, the tables it may read could not be prepared",
            "parse": "does not parse as one SELECT statement",
            "plan": "cannot be planned",
            "view": "cannot be made into a view",
        }[stage]
        return [f"{where}: {what}: {reason} (the schema {plan.schema} comes first in search_path)"]
    if plan.contract:
        contract = {column.name: column.sql_type for column in plan.contract}
        missing = [name for name in contract if name not in columns]
        extra = [name for name in columns if name not in contract]
        if missing:
            problems.append(f"{where}: returns no column {', '.join(missing)} of the data contract")
        if extra:
            problems.append(f"{where}: returns columns {', '.join(extra)} that the data contract does not list")
        for name, sql_type in contract.items():
            if name in columns and columns[name] != sql_type:
                problems.append(
                    f"{where}: column {name} is {columns[name]}, the data contract says {sql_type} (add a CAST)"
                )
    return problems


def _plan_nodes(explained: object) -> Iterator[dict]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan, init plans and sub plans included."""
    stack = (
        [entry["Plan"] for entry in explained if isinstance(entry, dict) and "Plan" in entry]
        if isinstance(explained, list)
        else []
    )
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in node.get("Plans") or [] if isinstance(child, dict))


# --- grants -----------------------------------------------------------------------------------------------------


def _ensure_role(conn: psycopg.Connection, role: str) -> bool:
    """Create the NOLOGIN role unless it exists; True when created. Roles are cluster-wide and a concurrent call
    may create the same one: its duplicate is fine."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
        return False
    try:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    except (errors.DuplicateObject, errors.UniqueViolation):
        return False
    return True


def _stored_refs(conn: psycopg.Connection, schema: str, view: str) -> list[str] | None:
    row = conn.execute(
        sql.SQL("SELECT refs FROM {} WHERE schema_name = %s AND view_name = %s").format(
            sql.Identifier(ADAPTER_SCHEMA, GRANTS_TABLE)
        ),
        [schema, view],
    ).fetchone()
    return list(row[0]) if row else None


def _apply_grants(conn: psycopg.Connection, schema: str, view: str, refs: list[str], logs: _Logs) -> None:
    """Make the roles of ``refs`` exactly the roles under the prefix with SELECT on the view (and USAGE on its
    schema). Call with the view's lock held."""
    prefix = role_prefix()
    name = _qualified(conn, schema, view)
    found = _relation(conn, schema, view)
    if found is None:
        logs.info(f"view {name} does not exist yet: its grants are kept and applied when it is provisioned")
        return
    oid = found[0]
    wanted = {role_name(ref, prefix): ref for ref in refs}
    for role in sorted(wanted):
        if _ensure_role(conn, role):
            logs.info(f"created role {role} (NOLOGIN) for {wanted[role]}")
    # GRANT and REVOKE on one schema from two transactions at once fail with "tuple concurrently updated".
    _lock(conn, "schema", schema)
    granted = {
        role
        for (role,) in conn.execute(
            "SELECT DISTINCT r.rolname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = %s AND a.privilege_type = 'SELECT' "
            "AND starts_with(r.rolname, %s)",
            [oid, prefix],
        ).fetchall()
    }
    for role in sorted(wanted):
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(schema, view), sql.Identifier(role)))
        if role not in granted:
            logs.info(f"granted SELECT on {name} to {role} ({wanted[role]})")
    for role in sorted(granted - set(wanted)):
        conn.execute(sql.SQL("REVOKE SELECT ON {} FROM {}").format(sql.Identifier(schema, view), sql.Identifier(role)))
        logs.info(f"revoked the SELECT of {role} on {name}")
    _revoke_idle_usage(conn, schema, prefix, logs)
    if not wanted and not granted:
        logs.info(f"nobody under {prefix} has access to {name}")


def _revoke_idle_usage(conn: psycopg.Connection, schema: str, prefix: str, logs: _Logs) -> None:
    """USAGE on the schema stays only with the roles under the prefix that can still read something in it."""
    idle = conn.execute(
        "SELECT r.rolname FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a "
        "JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = %s AND a.privilege_type = 'USAGE' AND starts_with(r.rolname, %s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) ca "
        "WHERE c.relnamespace = n.oid AND ca.grantee = r.oid) ORDER BY 1",
        [schema, prefix],
    ).fetchall()
    for (role,) in idle:
        conn.execute(sql.SQL("REVOKE USAGE ON SCHEMA {} FROM {}").format(sql.Identifier(schema), sql.Identifier(role)))
        logs.info(f"revoked USAGE on schema {schema} from {role}: it reads nothing there any more")


# --- what the marketplace shows ---------------------------------------------------------------------------------


def _public_info(conn: psycopg.Connection, plan: Plan) -> dict:
    """Witboost ``Info`` values: where the objects are and, for an output port, how to query it. Never a password."""
    host, port, database = conn.info.host, str(conn.info.port), conn.info.dbname
    if host.startswith("/"):
        connection = f"postgresql:///{database}?host={host}&port={port}"
    else:
        connection = f"postgresql://{f'[{host}]' if ':' in host else host}:{port}/{database}"
    values = [
        ("connectionString", "Connection", connection),
        ("host", "Host", host),
        ("port", "Port", port),
        ("database", "Database", database),
        ("schema", "Schema", plan.schema),
    ]
    if plan.tables:
        values.append(("tables", "Tables", ", ".join(table.name for table in plan.tables)))
    if plan.kind == "outputport":
        example = sql.SQL("SELECT * FROM {} LIMIT 10").format(sql.Identifier(plan.schema, plan.view))
        values += [
            ("view", "View", plan.view),
            ("exampleQuery", "Example query", example.as_string(conn)),
        ]
    return {key: {"type": "string_plain", "label": label, "value": value} for key, label, value in values}


# --- the backend ------------------------------------------------------------------------------------------------


class PostgresBackend(Backend):
    """Storage → tables, output port → view, workload → checked and completed, in the target database."""

    name = "postgres"

    def validate(self, request: AdapterRequest) -> list[str]:
        self._refuse_dataproduct_request(request)
        plan, problems = _plan(request)
        if plan is not None and plan.view_sql is not None and not problems:
            with target_connection(plan.environment) as conn:
                problems += _view_sql_problems(conn, plan)
        return problems

    def provision(self, request: AdapterRequest) -> Outcome:
        plan = self._checked_plan(request)
        logs = _Logs("provision")
        if plan.kind == "workload":
            logs.info(f"workload {plan.component_id}: its dependencies are in the data product; nothing to create")
            return Outcome(status="COMPLETED", result="Nothing to provision for a workload", logs=logs.entries)
        with target_connection(plan.environment) as conn:
            if plan.kind == "outputport":
                _ensure_grants_table(conn)
            try:
                with conn.transaction():
                    _limit(conn)
                    _lock(conn, "component", plan.schema, plan.component_id)
                    if _ensure_schema(conn, plan.schema):
                        logs.info(f"created schema {plan.schema}")
                    if plan.kind == "storage":
                        self._provision_storage(conn, plan, logs)
                    else:
                        self._provision_output_port(conn, plan, logs)
            except (_Failed, psycopg.Error) as exc:
                return self._failed(exc, logs)
            public_info = _public_info(conn, plan)
        result = (
            f"Provisioned view {plan.schema}.{plan.view}"
            if plan.kind == "outputport"
            else f"Provisioned {len(plan.tables)} table(s) in schema {plan.schema}"
        )
        return Outcome(status="COMPLETED", result=result, public_info=public_info, logs=logs.entries)

    def unprovision(self, request: AdapterRequest) -> Outcome:
        plan = self._checked_plan(request, check_view_sql=False)
        logs = _Logs("unprovision")
        if plan.kind == "workload":
            logs.info(f"workload {plan.component_id}: nothing to remove")
            return Outcome(status="COMPLETED", result="Nothing to unprovision for a workload", logs=logs.entries)
        objects = [f"view {plan.schema}.{plan.view}"] if plan.kind == "outputport" else []
        objects += [f"table {plan.schema}.{table.name}" for table in plan.tables]
        if not request.remove_data:
            logs.info(f"removeData is false: data kept, {', '.join(objects) or 'nothing'} left in place")
            return Outcome(status="COMPLETED", result="Unprovisioned; data kept", logs=logs.entries)
        with target_connection(plan.environment) as conn:
            try:
                with conn.transaction():
                    _limit(conn)
                    _lock(conn, "component", plan.schema, plan.component_id)
                    if plan.kind == "outputport":
                        _lock(conn, "view", plan.schema, plan.view)
                        self._drop(conn, plan.schema, plan.view, "v", logs)
                    # the port's own table after its view, which reads it
                    for table in plan.tables:
                        self._drop(conn, plan.schema, table.name, "r", logs)
                    _lock(conn, "schema", plan.schema)
                    if _relation_count(conn, plan.schema) is not None:
                        _revoke_idle_usage(conn, plan.schema, role_prefix(), logs)
                    self._drop_schema_if_empty(conn, plan.schema, logs)
            except (_Failed, psycopg.Error) as exc:
                return self._failed(exc, logs)
        return Outcome(status="COMPLETED", result="Unprovisioned; data removed", logs=logs.entries)

    def update_acl(self, refs: list[str], request: AdapterRequest) -> Outcome:
        self._refuse_dataproduct_request(request)
        if not isinstance(refs, list):
            raise AdapterRefusal([f"refs: must be a list of user:<name> and group:<name>, not {type_name(refs)}"])
        bad = [ref for ref in refs if not isinstance(ref, str) or REF_RE.fullmatch(ref) is None]
        if bad:
            raise AdapterRefusal(
                [
                    f"refs: {show(ref) if isinstance(ref, str) else type_name(ref)} is not user:<name> or group:<name>"
                    for ref in bad
                ],
                input_error_field="refs",
            )
        plan = self._checked_plan(request, check_view_sql=False)
        if plan.kind != "outputport":
            raise AdapterRefusal(
                [f"updateacl: grants access to output ports only; {plan.component_id} is a {plan.kind}"]
            )
        refs = list(dict.fromkeys(refs))
        logs = _Logs("updateacl")
        with target_connection(plan.environment) as conn:
            _ensure_grants_table(conn)
            try:
                with conn.transaction():
                    _limit(conn)
                    _lock(conn, "view", plan.schema, plan.view)
                    conn.execute(
                        sql.SQL(
                            "INSERT INTO {} (schema_name, view_name, refs) VALUES (%s, %s, %s) ON CONFLICT "
                            "(schema_name, view_name) DO UPDATE SET refs = EXCLUDED.refs, updated_at = now()"
                        ).format(sql.Identifier(ADAPTER_SCHEMA, GRANTS_TABLE)),
                        [plan.schema, plan.view, Jsonb(refs)],
                    )
                    _apply_grants(conn, plan.schema, plan.view, refs, logs)
            except (_Failed, psycopg.Error) as exc:
                return self._failed(exc, logs)
        return Outcome(
            status="COMPLETED", result=f"Access to {plan.schema}.{plan.view}: {len(refs)} ref(s)", logs=logs.entries
        )

    def reverse_provision(self, use_case_template_id: str, environment: str, params: dict, catalog_info: dict) -> dict:
        if not isinstance(catalog_info, dict) or not catalog_info:
            raise AdapterRefusal(
                [
                    "catalogInfo: is required; the postgres adapter finds the table or view to read from the "
                    "component's catalog-info.yaml"
                ],
                input_error_field="catalogInfo",
            )
        problems: list[str] = []
        environment = _environment_of({"environment": environment}, problems)
        if problems:
            raise AdapterRefusal(
                [problems[0].replace("dataProduct.environment", "environment")], input_error_field="environment"
            )
        schema, name = _reverse_target(params if isinstance(params, dict) else {}, catalog_info)
        logs = _Logs("reverse-provisioning")
        with target_connection(environment) as conn:
            rows = conn.execute(
                "SELECT column_name, udt_name, character_maximum_length, numeric_precision, numeric_scale, "
                "is_nullable FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position",
                [schema, name],
            ).fetchall()
            keys = dict(
                conn.execute(
                    "SELECT k.column_name, min(t.constraint_type) FROM information_schema.table_constraints t "
                    "JOIN information_schema.key_column_usage k ON k.constraint_schema = t.constraint_schema "
                    "AND k.constraint_name = t.constraint_name AND k.table_name = t.table_name "
                    "WHERE t.table_schema = %s AND t.table_name = %s "
                    "AND (t.constraint_type = 'PRIMARY KEY' OR (t.constraint_type = 'UNIQUE' AND "
                    "(SELECT count(*) FROM information_schema.key_column_usage o WHERE o.constraint_schema = "
                    "t.constraint_schema AND o.constraint_name = t.constraint_name) = 1)) "
                    "GROUP BY k.column_name",
                    [schema, name],
                ).fetchall()
            )
            qualified = _qualified(conn, schema, name)
            database = conn.info.dbname
        if not rows:
            logs.error(f"no table or view {qualified} in database {database}")
            return {"status": "FAILED", "updates": {}, "logs": logs.entries}
        mesh = catalog_info.get("spec", {}).get("mesh") if isinstance(catalog_info.get("spec"), dict) else None
        contract = mesh.get("dataContract") if isinstance(mesh, dict) else None
        written = contract.get("schema") if isinstance(contract, dict) else None
        known = {
            column["name"]: column
            for column in (written if isinstance(written, list) else [])
            if isinstance(column, dict) and isinstance(column.get("name"), str)
        }
        columns = [_reverse_column(row, keys.get(row[0]), known.get(row[0]), logs) for row in rows]
        logs.info(f"read {len(columns)} column(s) of {qualified} from information_schema")
        return {"status": "COMPLETED", "updates": {"spec.mesh.dataContract.schema": columns}, "logs": logs.entries}

    # --- helpers -------------------------------------------------------------------------------------------------

    @staticmethod
    def _refuse_dataproduct_request(request: AdapterRequest) -> None:
        if request.descriptor_kind != COMPONENT_DESCRIPTOR:
            raise AdapterRefusal(
                [
                    f"descriptorKind: {show(request.descriptor_kind)} is not supported; the postgres adapter works per "
                    f"component ({COMPONENT_DESCRIPTOR} with componentIdToProvision)"
                ],
                input_error_field="descriptorKind",
            )

    def _checked_plan(self, request: AdapterRequest, *, check_view_sql: bool = True) -> Plan:
        """The plan of ``request``, or AdapterRefusal with every problem. viewSql is checked on the target."""
        self._refuse_dataproduct_request(request)
        plan, problems = _plan(request)
        if plan is not None and not problems and check_view_sql and plan.view_sql is not None:
            with target_connection(plan.environment) as conn:
                problems = _view_sql_problems(conn, plan)
        if plan is None or problems:
            raise AdapterRefusal(
                problems,
                user_message=f"The postgres adapter refuses {request.component_id}: " + "; ".join(problems),
            )
        return plan

    @staticmethod
    def _provision_storage(conn: psycopg.Connection, plan: Plan, logs: _Logs) -> None:
        if not plan.tables:
            logs.info(
                f"storage {plan.component_id} declares no tables and no output port reads from it: only its schema "
                f"{plan.schema} is needed"
            )
        for table in plan.tables:
            _provision_table(conn, plan.schema, table, logs)

    @staticmethod
    def _provision_output_port(conn: psycopg.Connection, plan: Plan, logs: _Logs) -> None:
        for table in plan.tables:  # its own rows' table, when no storage is behind it
            _provision_table(conn, plan.schema, table, logs)
        _lock(conn, "view", plan.schema, plan.view)
        if plan.view_sql is not None:
            # PREPARE-checked by _checked_plan; search_path as it was checked, for names the SQL leaves unqualified.
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(plan.schema)))
            query: sql.Composable = sql.SQL(plan.view_sql)
        else:
            query = _source_query(conn, plan)
        _replace_view(conn, plan.schema, plan.view, query, logs)
        refs = _stored_refs(conn, plan.schema, plan.view)
        if refs is not None:
            # A view dropped and re-created has lost its grants; a replaced one keeps them. Either way: desired state.
            _apply_grants(conn, plan.schema, plan.view, refs, logs)

    @staticmethod
    def _drop(conn: psycopg.Connection, schema: str, name: str, relkind: str, logs: _Logs) -> None:
        """DROP one of the component's own objects; never CASCADE, so what depends on it makes the drop fail."""
        qualified = _qualified(conn, schema, name)
        found = _relation(conn, schema, name)
        if found is None:
            logs.info(f"{_kind_word(relkind)} {qualified} does not exist: nothing to drop")
            return
        if found[1] not in (relkind, "p" if relkind == "r" else relkind):
            raise _Failed(f"{qualified} is a {_kind_word(found[1])}, not a {_kind_word(relkind)}: not dropped")
        drop = sql.SQL("DROP VIEW {}") if relkind == "v" else sql.SQL("DROP TABLE {}")
        try:
            with conn.transaction():
                conn.execute(drop.format(sql.Identifier(schema, name)))
        except errors.DependentObjectsStillExist as exc:
            raise _Failed(
                f"{qualified} is still used by other objects, so nothing was dropped: {_database_reason(exc)}"
            ) from exc
        logs.info(f"dropped {_kind_word(relkind)} {qualified}")

    @staticmethod
    def _drop_schema_if_empty(conn: psycopg.Connection, schema: str, logs: _Logs) -> None:
        if _relation_count(conn, schema) != 0:
            return
        try:
            with conn.transaction():
                conn.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(schema)))
        except errors.DependentObjectsStillExist:
            return  # functions, types or the like of someone else: the schema stays
        logs.info(f"dropped schema {schema}: nothing was left in it")

    @staticmethod
    def _failed(exc: Exception, logs: _Logs) -> Outcome:
        reason = str(exc) if isinstance(exc, _Failed) else _database_reason(exc)
        logs.error(reason)
        return Outcome(status="FAILED", result=reason, logs=logs.entries)


def _relation_count(conn: psycopg.Connection, schema: str) -> int | None:
    """How many relations ``schema`` holds; None when there is no such schema."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid) FROM pg_namespace n "
        "WHERE n.nspname = %s",
        [schema],
    ).fetchone()
    return row[0] if row else None


def _reverse_target(params: dict, catalog_info: dict) -> tuple[str, str]:
    """The schema (from the component's entity name, as provisioning names it) and the table or view to read
    (``params.view``/``params.table``, else what the component's ``specific`` names, else the component's name)."""
    metadata = catalog_info.get("metadata") if isinstance(catalog_info.get("metadata"), dict) else {}
    parts = parse_dp_entity_name(metadata.get("name"), component=True)
    if parts is None:
        raise AdapterRefusal(
            [
                f"catalogInfo.metadata.name: {show(metadata.get('name'))} is not a component entity name "
                "<domain>.<name>.<major>.<component>"
            ],
            input_error_field="catalogInfo",
        )
    schema = identifier(f"{parts.domain}_{parts.name}_{parts.major}")
    problems: list[str] = []
    for key in ("view", "table"):
        if params.get(key) is not None:
            if problem := _name_problem(params[key], f"params.{key}"):
                raise AdapterRefusal([problem], input_error_field="params")
            return schema, params[key]
    spec = catalog_info.get("spec") if isinstance(catalog_info.get("spec"), dict) else {}
    mesh = spec.get("mesh") if isinstance(spec.get("mesh"), dict) else {}
    specific = mesh.get("specific") if isinstance(mesh.get("specific"), dict) else {}
    default = identifier(parts.component or "")
    kind = str(mesh.get("kind") or spec.get("type") or "").lower()
    if kind == "storage":
        tables = [table for table in specific.get("tables") or [] if isinstance(table, dict)]
        if len(tables) > 1:
            raise AdapterRefusal(
                ["params.table: the storage has several tables in specific.tables; name the one to read"],
                input_error_field="params",
            )
        if len(tables) == 1 and isinstance(tables[0].get("tableName"), str):
            default = tables[0]["tableName"]
        name = _named(specific, ("tableName", "table"), default, problems)
    else:
        name = _named(specific, ("viewName", "view"), default, problems)
    if problems:
        raise AdapterRefusal(
            [f"catalogInfo.spec.mesh.{problem}" for problem in problems], input_error_field="catalogInfo"
        )
    return schema, name


def _reverse_column(row: tuple, key: str | None, written: dict | None, logs: _Logs) -> dict:
    """An OpenMetadata column for an ``information_schema.columns`` row; what the catalog-info already says of the
    column (description, tags, …) is kept, its type fields are replaced."""
    name, udt, length, precision, scale, nullable = row
    column = {key_: value for key_, value in (written or {}).items() if key_ not in _TYPE_KEYS}
    column["name"] = name
    element = udt[1:] if udt.startswith("_") else None
    data_type = _REVERSE_TYPES.get(element or udt)
    if data_type is None:
        logs.warning(f"column {name}: PostgreSQL type {udt} has no OpenMetadata type here; written as STRING")
        data_type = "STRING"
        column["dataTypeDisplay"] = udt
    if element is not None:
        column["dataType"], column["arrayDataType"] = "ARRAY", data_type
        return column
    if data_type in ("VARCHAR", "CHAR"):
        if length is None:
            data_type = "TEXT"  # varchar without a length is text by another name
        else:
            column["dataLength"] = length
    column["dataType"] = data_type
    if data_type == "NUMERIC" and precision is not None:
        column["precision"], column["scale"] = precision, scale or 0
    if data_type == "JSON":
        # The DPS requires a JSON Schema for JSON columns; without one written, any JSON value is what it holds.
        column["jsonSchema"] = (written or {}).get("jsonSchema") or "{}"
    if key == "PRIMARY KEY":
        column["constraint"] = "PRIMARY_KEY"
    elif key == "UNIQUE":
        column["constraint"] = "UNIQUE"
    elif nullable == "NO":
        column["constraint"] = "NOT_NULL"
    return column
