"""The built-in postgres adapter's backend, called directly against the real target database of the test server
(``meshforge_data`` on the embedded PostgreSQL): tables, views, grants checked with SET ROLE, unprovision and
reverse provisioning."""

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from psycopg import errors, sql

from core.yaml import load
from provisioning.adapters import postgres
from provisioning.adapters.base import COMPONENT_DESCRIPTOR, DATAPRODUCT_DESCRIPTOR, AdapterRefusal, AdapterRequest
from provisioning.adapters.postgres import DEFAULT_DATABASE, PostgresBackend, role_name, target_connection

# Roles are cluster-wide and schemas outlive a test run's transactions: this module's own names, dropped at its end.
PREFIX = f"t{secrets.token_hex(3)}_"
DOMAIN = f"pgt{secrets.token_hex(3)}"

WITBOOST_FIXTURES = Path(django_settings.BASE_DIR) / "tests" / "data" / "witboost"

backend = PostgresBackend()


@pytest.fixture(autouse=True)
def role_prefix(settings):
    settings.PROVISIONING_POSTGRES_ROLE_PREFIX = PREFIX
    return PREFIX


@pytest.fixture(scope="module", autouse=True)
def drop_what_the_module_made():
    yield
    with target_connection() as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [DOMAIN]).fetchall()
        for (schema,) in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        if conn.execute("SELECT to_regclass('meshforge_adapter.output_port_grants')").fetchone()[0]:
            conn.execute(
                "DELETE FROM meshforge_adapter.output_port_grants WHERE starts_with(schema_name, %s)", [DOMAIN]
            )
        for (role,) in conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [PREFIX]).fetchall():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# --- descriptors ----------------------------------------------------------------------------------------------


def data_product(name: str, *components: dict, domain: str = DOMAIN) -> dict:
    return {
        "id": f"urn:dmb:dp:{domain}:{name}:1",
        "name": "A title people edit",
        "kind": "dataproduct",
        "domain": domain,
        "version": "1.2.0",
        "environment": "development",
        "components": list(components),
    }


def component(product: str, short: str, kind: str, *, depends_on=(), specific=None, columns=None, **fields) -> dict:
    item = {
        "id": f"urn:dmb:cmp:{DOMAIN}:{product}:1:{short}",
        "name": short.title(),
        "kind": kind,
        "version": "1.2.0",
        "dependsOn": [f"urn:dmb:cmp:{DOMAIN}:{product}:1:{target}" for target in depends_on],
        "specific": specific or {},
        **fields,
    }
    if columns is not None:
        item["dataContract"] = {"schema": columns}
    return item


def request(product: dict, short: str, *, remove_data: bool = False) -> AdapterRequest:
    return AdapterRequest(
        descriptor_kind=COMPONENT_DESCRIPTOR,
        data_product=product,
        component_id=f"{product['id'].replace(':dp:', ':cmp:')}:{short}",
        remove_data=remove_data,
    )


def schema_of(name: str) -> str:
    return f"{DOMAIN}_{name}_1"


PEOPLE = [
    {"name": "id", "dataType": "INT", "constraint": "PRIMARY_KEY"},
    {"name": "name", "dataType": "VARCHAR", "dataLength": 50, "constraint": "NOT_NULL"},
    {"name": "email", "dataType": "STRING", "constraint": "UNIQUE"},
    {"name": "balance", "dataType": "DECIMAL", "precision": 12, "scale": 2},
]


def people_product(name: str, *port_columns: dict, specific=None, through_workload: bool = False) -> dict:
    """A storage ``people``, and an output port ``people-port`` on it (through a workload when asked)."""
    components = [component(name, "people", "storage", columns=PEOPLE)]
    if through_workload:
        components.append(component(name, "load", "workload", depends_on=["people"]))
    components.append(
        component(
            name,
            "people-port",
            "outputport",
            depends_on=["load" if through_workload else "people"],
            columns=list(port_columns or PEOPLE[:2]),
            specific=specific,
        )
    )
    return data_product(name, *components)


# --- reading the target ---------------------------------------------------------------------------------------


def query(statement, params=()) -> list[tuple]:
    with target_connection() as conn:
        return conn.execute(statement, params).fetchall()


def columns_of(schema: str, table: str) -> list[tuple]:
    return query(
        "SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [schema, table],
    )


def keys_of(schema: str, table: str) -> set[tuple[str, str]]:
    return set(
        query(
            "SELECT t.constraint_type, k.column_name FROM information_schema.table_constraints t "
            "JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) "
            "WHERE t.table_schema = %s AND t.table_name = %s",
            [schema, table],
        )
    )


def exists(schema: str, name: str) -> bool:
    return bool(
        query("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s", [schema, name])
    )


def grantees(schema: str, name: str) -> set[str]:
    return {
        grantee
        for (grantee,) in query(
            "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = %s AND table_name = %s "
            "AND privilege_type = 'SELECT' AND starts_with(grantee, %s)",
            [schema, name, PREFIX],
        )
    }


def select_as(role: str, schema: str, name: str) -> list[tuple]:
    """Read ``schema.name`` on a real connection after SET ROLE: what a member of the role would see."""
    with target_connection() as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        return conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, name))).fetchall()


def messages(outcome) -> str:
    return "\n".join(entry["message"] for entry in outcome.logs)


# --- storage ----------------------------------------------------------------------------------------------------


ALL_TYPES = [
    {"name": "day", "dataType": "DATE", "constraint": "PRIMARY_KEY"},
    {"name": "location_key", "dataType": "TEXT", "dataLength": 16777216, "constraint": "PRIMARY_KEY"},
    {"name": "persons", "dataType": "NUMBER", "precision": 38, "scale": 0, "constraint": "NOT_NULL"},
    {"name": "amount", "dataType": "decimal", "precision": 12, "scale": 2},
    {"name": "ratio", "dataType": "NUMERIC"},
    {"name": "tiny", "dataType": "TINYINT"},
    {"name": "small", "dataType": "SMALLINT"},
    {"name": "count", "dataType": "INT", "constraint": "UNIQUE"},
    {"name": "big", "dataType": "BIGINT"},
    {"name": "single", "dataType": "FLOAT"},
    {"name": "double", "dataType": "DOUBLE"},
    {"name": "flag", "dataType": "BOOLEAN", "constraint": "NULL"},
    {"name": "label", "dataType": "STRING"},
    {"name": "notes", "dataType": "MEDIUMTEXT"},
    {"name": "code", "dataType": "CHAR", "dataLength": 3},
    {"name": "ref", "dataType": "VARCHAR", "dataLength": 36},
    {"name": "at_time", "dataType": "TIME"},
    {"name": "at", "dataType": "TIMESTAMP"},
    {"name": "at_dt", "dataType": "DATETIME"},
    {"name": "at_tz", "dataType": "TIMESTAMPZ"},
    {"name": "span", "dataType": "INTERVAL"},
    {"name": "raw", "dataType": "BINARY", "dataLength": 16},
    {"name": "blob", "dataType": "BLOB"},
    {"name": "bytes", "dataType": "BYTEA"},
    {"name": "doc", "dataType": "JSON", "jsonSchema": "{}"},
    {"name": "uid", "dataType": "UUID"},
    {"name": "scores", "dataType": "ARRAY", "arrayDataType": "INT"},
    {"name": "aliases", "dataType": "ARRAY", "arrayDataType": "VARCHAR", "dataLength": 10},
]


def test_a_storage_component_becomes_a_table_with_the_mapped_types_and_constraints():
    product = data_product("typed", component("typed", "facts", "storage", columns=ALL_TYPES))
    assert backend.validate(request(product, "facts")) == []

    outcome = backend.provision(request(product, "facts"))

    assert outcome.status == "COMPLETED", outcome.logs
    schema = schema_of("typed")
    assert columns_of(schema, "facts") == [
        ("day", "date", None, None, None, "NO"),
        ("location_key", "text", None, None, None, "NO"),
        ("persons", "numeric", None, 38, 0, "NO"),
        ("amount", "numeric", None, 12, 2, "YES"),
        ("ratio", "numeric", None, None, None, "YES"),
        ("tiny", "smallint", None, 16, 0, "YES"),
        ("small", "smallint", None, 16, 0, "YES"),
        ("count", "integer", None, 32, 0, "YES"),
        ("big", "bigint", None, 64, 0, "YES"),
        ("single", "real", None, 24, None, "YES"),
        ("double", "double precision", None, 53, None, "YES"),
        ("flag", "boolean", None, None, None, "YES"),
        ("label", "text", None, None, None, "YES"),
        ("notes", "text", None, None, None, "YES"),
        ("code", "character", 3, None, None, "YES"),
        ("ref", "character varying", 36, None, None, "YES"),
        ("at_time", "time without time zone", None, None, None, "YES"),
        ("at", "timestamp without time zone", None, None, None, "YES"),
        ("at_dt", "timestamp without time zone", None, None, None, "YES"),
        ("at_tz", "timestamp with time zone", None, None, None, "YES"),
        ("span", "interval", None, None, None, "YES"),
        ("raw", "bytea", None, None, None, "YES"),
        ("blob", "bytea", None, None, None, "YES"),
        ("bytes", "bytea", None, None, None, "YES"),
        ("doc", "jsonb", None, None, None, "YES"),
        ("uid", "uuid", None, None, None, "YES"),
        ("scores", "ARRAY", None, None, None, "YES"),
        ("aliases", "ARRAY", None, None, None, "YES"),
    ]
    element_types = query(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
        "AND attname IN ('scores', 'aliases') ORDER BY attnum",
        [f'"{schema}"."facts"'],
    )
    assert element_types == [("scores", "integer[]"), ("aliases", "character varying(10)[]")]
    assert keys_of(schema, "facts") == {("PRIMARY KEY", "day"), ("PRIMARY KEY", "location_key"), ("UNIQUE", "count")}
    assert "created table" in messages(outcome)

    info = outcome.public_info
    assert {key: value["value"] for key, value in info.items() if key in ("database", "schema", "tables")} == {
        "database": DEFAULT_DATABASE,
        "schema": schema,
        "tables": "facts",
    }
    assert all(value["type"] == "string_plain" and value["label"] for value in info.values())
    assert "password" not in json.dumps(info).lower()


def test_the_target_is_the_meshforge_data_database_of_the_default_server():
    with target_connection() as conn:
        assert conn.info.dbname == DEFAULT_DATABASE == "meshforge_data"


def test_the_default_database_is_created_on_first_use_once_however_many_calls_race_for_it(monkeypatch):
    missing = f"meshforge_data_{DOMAIN}"
    monkeypatch.setattr(postgres, "DEFAULT_DATABASE", missing)

    def connected_to(_) -> str:
        with target_connection() as conn:
            return conn.info.dbname

    try:
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(connected_to, range(4))) == [missing] * 4
    finally:
        monkeypatch.undo()
        with target_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(missing)))


def test_a_database_created_by_a_concurrent_call_after_this_one_failed_to_connect_is_used(monkeypatch):
    """The race seen on a fresh install: the demo's first deployments all connect before the database exists, one
    creates it, and the others find it made when they come to create it: they connect again, not fail."""
    with target_connection():
        pass  # it exists now
    real_connect, calls = postgres._connect, []

    def connect_once_too_early(params):
        calls.append(params.get("dbname"))
        if len(calls) == 1:
            raise psycopg.OperationalError(f'database "{params["dbname"]}" does not exist')
        return real_connect(params)

    monkeypatch.setattr(postgres, "_connect", connect_once_too_early)
    with target_connection() as conn:
        assert conn.info.dbname == DEFAULT_DATABASE


def test_a_target_url_is_used_as_given_and_its_database_is_never_created(settings):
    with target_connection() as conn:
        host, port, user = conn.info.host, conn.info.port, conn.info.user
    settings.PROVISIONING_POSTGRES_URL = f"postgresql://{user}@/{DEFAULT_DATABASE}?host={host}&port={port}"
    product = data_product("byurl", component("byurl", "facts", "storage", columns=PEOPLE))

    outcome = backend.provision(request(product, "facts"))

    assert outcome.status == "COMPLETED", outcome.logs
    assert outcome.public_info["database"]["value"] == DEFAULT_DATABASE
    assert exists(schema_of("byurl"), "facts")
    settings.PROVISIONING_POSTGRES_URL = f"postgresql://{user}@/nowhere_{DOMAIN}?host={host}&port={port}"
    with pytest.raises(psycopg.OperationalError):
        backend.provision(request(product, "facts"))
    settings.PROVISIONING_POSTGRES_URL = None
    assert query("SELECT 1 FROM pg_database WHERE datname = %s", [f"nowhere_{DOMAIN}"]) == []


def test_a_reprovision_adds_the_new_columns_keeps_the_old_ones_and_says_what_changed():
    first = data_product("grow", component("grow", "events", "storage", columns=PEOPLE))
    assert backend.provision(request(first, "events")).status == "COMPLETED"
    with target_connection() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (1, 'Ada', 'ada@example.com', 1.5)").format(
                sql.Identifier(schema_of("grow"), "events")
            )
        )

    columns = [*PEOPLE[:3], {"name": "joined", "dataType": "DATE"}, {"name": "score", "dataType": "BIGINT"}]
    columns[1] = {**columns[1], "dataLength": 80}  # a type change is reported, never applied
    again = data_product("grow", component("grow", "events", "storage", columns=columns))
    outcome = backend.provision(request(again, "events"))

    assert outcome.status == "COMPLETED", outcome.logs
    assert [row[0] for row in columns_of(schema_of("grow"), "events")] == [
        "id",
        "name",
        "email",
        "balance",
        "joined",
        "score",
    ]
    assert query(sql.SQL("SELECT id, name, joined FROM {}").format(sql.Identifier(schema_of("grow"), "events"))) == [
        (1, "Ada", None)
    ]
    logged = messages(outcome)
    assert "added columns joined date, score bigint" in logged
    assert "balance are no longer in the contract and were kept" in logged
    assert "column name is character varying(50), the contract says character varying(80)" in logged

    unchanged = backend.provision(request(again, "events"))
    assert "unchanged" in messages(unchanged)


def test_a_witboost_storage_descriptor_gives_its_tables_and_its_port_is_checked_against_them():
    """The public scaffold's Snowflake storage and output port (under this module's domain): ``specific.tables``
    with NUMBER(38, 0) and TEXT(16777216), and a port whose contract has a column the table lacks."""
    text = (WITBOOST_FIXTURES / "scaffold-descriptor_storage_valid.yaml").read_text().replace("healthcare", DOMAIN)
    wrapper = load(text)
    storage_request = AdapterRequest(
        descriptor_kind=COMPONENT_DESCRIPTOR,
        data_product=wrapper["dataProduct"],
        component_id=wrapper["componentIdToProvision"],
    )
    assert backend.validate(storage_request) == []
    assert backend.provision(storage_request).status == "COMPLETED"
    assert [row[:2] for row in columns_of(f"{DOMAIN}_vaccinations_0", "vaccinations_clean")][:3] == [
        ("date", "date"),
        ("location_key", "text"),
        ("new_persons_vaccinated", "numeric"),
    ]

    port_request = AdapterRequest(
        descriptor_kind=COMPONENT_DESCRIPTOR,
        data_product=wrapper["dataProduct"],
        component_id=f"urn:dmb:cmp:{DOMAIN}:vaccinations:0:snowflake-output-port",
    )
    assert backend.validate(port_request) == [
        'dataContract.schema[5]: column "newcolumn" is not a column of table "vaccinations_clean"'
    ]


# --- output ports -----------------------------------------------------------------------------------------------


def test_an_output_port_is_a_view_of_exactly_its_contract_columns_from_the_storage_it_depends_on():
    port_columns = [
        {"name": "name", "dataType": "VARCHAR", "dataLength": 50},
        {"name": "balance", "dataType": "DOUBLE"},  # the table has numeric(12,2): the view casts to the contract
    ]
    product = people_product("ports", *port_columns, through_workload=True)
    for short in ("people", "load"):
        assert backend.validate(request(product, short)) == []
        assert backend.provision(request(product, short)).status == "COMPLETED"
    with target_connection() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (7, 'Grace', 'grace@example.com', 2.25)").format(
                sql.Identifier(schema_of("ports"), "people")
            )
        )
    assert backend.validate(request(product, "people-port")) == []

    outcome = backend.provision(request(product, "people-port"))

    assert outcome.status == "COMPLETED", outcome.logs
    schema = schema_of("ports")
    assert columns_of(schema, "people_port") == [
        ("name", "character varying", 50, None, None, "YES"),
        ("balance", "double precision", None, 53, None, "YES"),
    ]
    assert query(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, "people_port"))) == [("Grace", 2.25)]
    info = {key: value["value"] for key, value in outcome.public_info.items()}
    assert info["view"] == "people_port"
    assert info["schema"] == schema
    assert query(info["exampleQuery"]) == [("Grace", 2.25)]
    assert "password" not in json.dumps(outcome.public_info).lower()


def test_a_port_whose_columns_change_incompatibly_gets_its_view_dropped_and_created_again():
    product = people_product("reshape")
    backend.provision(request(product, "people"))
    assert backend.provision(request(product, "people-port")).status == "COMPLETED"

    appended = people_product("reshape", *PEOPLE[:3])
    outcome = backend.provision(request(appended, "people-port"))
    assert outcome.status == "COMPLETED", outcome.logs
    assert "replaced view" in messages(outcome)

    reordered = people_product("reshape", PEOPLE[2], PEOPLE[0])
    outcome = backend.provision(request(reordered, "people-port"))
    assert outcome.status == "COMPLETED", outcome.logs
    assert "re-created view" in messages(outcome)
    assert [row[0] for row in columns_of(schema_of("reshape"), "people_port")] == ["email", "id"]


def test_a_port_names_the_table_it_reads_when_its_storage_has_several():
    storage = component(
        "several",
        "store",
        "storage",
        specific={"tables": [{"tableName": "a", "schema": PEOPLE[:2]}, {"tableName": "b", "schema": PEOPLE[:2]}]},
    )
    vague = data_product(
        "several", storage, component("several", "port", "outputport", depends_on=["store"], columns=PEOPLE[:1])
    )
    [problem] = backend.validate(request(vague, "port"))
    assert "specific.tableName" in problem and '"a", "b"' in problem

    named = data_product(
        "several",
        storage,
        component(
            "several", "port", "outputport", depends_on=["store"], columns=PEOPLE[:1], specific={"tableName": "b"}
        ),
    )
    assert backend.validate(request(named, "port")) == []
    backend.provision(request(named, "store"))
    assert backend.provision(request(named, "port")).status == "COMPLETED"
    assert "FROM" in query("SELECT pg_get_viewdef(%s::regclass)", [f'"{schema_of("several")}"."port"'])[0][0]
    assert query(
        "SELECT DISTINCT table_name FROM information_schema.view_column_usage WHERE view_schema = %s",
        [schema_of("several")],
    ) == [("b",)]


def test_view_sql_is_checked_on_the_target_and_only_one_select_of_the_products_own_tables_passes():
    def port_with(view_sql: str, columns=None) -> AdapterRequest:
        product = people_product(
            "custom", *(columns or [PEOPLE[0], {"name": "shout", "dataType": "TEXT"}]), specific={"viewSql": view_sql}
        )
        return request(product, "people-port")

    good = "SELECT id, upper(name) AS shout FROM people WHERE balance > 0;"
    # The storage is not provisioned yet: the check makes its tables in a transaction that it rolls back.
    assert backend.validate(port_with(good)) == []
    assert query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_of("custom")]) == []

    elsewhere = schema_of("elsewhere")
    with target_connection() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(elsewhere)))
        conn.execute(sql.SQL("CREATE TABLE {} (id int, shout text)").format(sql.Identifier(elsewhere, "secrets")))
    refused = {
        "DELETE FROM people RETURNING id, name AS shout": "writes data",
        "WITH gone AS (DELETE FROM people RETURNING id, name) SELECT id, name AS shout FROM gone": "writes data",
        "SELECT id, name AS shout FROM people; DROP TABLE people": "does not parse as one SELECT",
        "DROP TABLE people": "does not parse as one SELECT",
        "SELECT id, name AS shout FROM people FOR UPDATE": "locks rows",
        "SELECT oid::int AS id, rolname::text AS shout FROM pg_authid": "reads pg_catalog.pg_authid, outside",
        f"SELECT id, shout FROM {elsewhere}.secrets": f"reads {elsewhere}.secrets, outside",  # noqa: S608
        # pruned from the plan, still read by the view
        f"SELECT id, shout FROM {elsewhere}.secrets WHERE false": f"reads {elsewhere}.secrets, outside",  # noqa: S608
        "SELECT id FROM nowhere": 'relation "nowhere" does not exist',
        "SELECT id, name AS shout, email FROM people": "returns columns email that the data contract does not list",
        "SELECT id, name AS shout FROM people": "column shout is character varying(50), the data contract says text",
    }
    for view_sql, complaint in refused.items():
        problems = backend.validate(port_with(view_sql))
        assert any(complaint in problem for problem in problems), (view_sql, problems)
        assert all(problem.startswith("specific.viewSql: ") for problem in problems)

    product = port_with(good).data_product
    backend.provision(request(product, "people"))
    outcome = backend.provision(port_with(good))
    assert outcome.status == "COMPLETED", outcome.logs
    assert [row[:2] for row in columns_of(schema_of("custom"), "people_port")] == [("id", "integer"), ("shout", "text")]

    with pytest.raises(AdapterRefusal) as refusal:
        backend.provision(port_with("DELETE FROM people RETURNING id, name AS shout"))
    assert "writes data" in refusal.value.errors[0]
    assert exists(schema_of("custom"), "people")


def test_an_unknown_type_is_refused_at_validate_naming_the_column_and_the_type():
    columns = [*PEOPLE[:1], {"name": "address", "dataType": "STRUCT"}, {"name": "tags", "dataType": "ARRAY"}]
    product = data_product("unknown", component("unknown", "things", "storage", columns=columns))

    problems = backend.validate(request(product, "things"))

    assert len(problems) == 2
    assert 'column "address": data type "STRUCT" has no PostgreSQL type' in problems[0]
    assert 'column "tags": arrayDataType must be a type name' in problems[1]
    with pytest.raises(AdapterRefusal) as refusal:
        backend.provision(request(product, "things"))
    assert refusal.value.errors == problems
    assert query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_of("unknown")]) == []


def test_kinds_and_requests_the_adapter_does_not_handle_are_refused():
    product = data_product(
        "kinds",
        component("kinds", "obs", "observability"),
        component("kinds", "job", "workload", depends_on=["missing"]),
        component("kinds", "ok", "workload"),
    )
    [problem] = backend.validate(request(product, "obs"))
    assert '"observability" is not provisioned by the postgres adapter' in problem
    [problem] = backend.validate(request(product, "job"))
    assert "dependsOn" in problem and "missing" in problem
    assert backend.validate(request(product, "ok")) == []
    assert backend.provision(request(product, "ok")).status == "COMPLETED"

    whole = AdapterRequest(descriptor_kind=DATAPRODUCT_DESCRIPTOR, data_product=product)
    for call in (backend.validate, backend.provision, backend.unprovision):
        with pytest.raises(AdapterRefusal) as refusal:
            call(whole)
        assert refusal.value.input_error_field == "descriptorKind"


# --- tables nobody declared ---------------------------------------------------------------------------------------


def view_sources(schema: str) -> set[tuple[str, str]]:
    """(view, table it reads) in ``schema``."""
    return set(
        query(
            "SELECT DISTINCT view_name, table_name FROM information_schema.view_table_usage WHERE view_schema = %s",
            [schema],
        )
    )


def test_a_storage_without_tables_keeps_a_data_table_for_each_port_that_reads_from_it():
    """The built-in storage template asks for no columns: each port behind it (through workloads too) gets a
    ``<view>_data`` table with its contract's columns in the storage, and its view reads it; a port with viewSql
    gets none."""
    product = data_product(
        "landing",
        component("landing", "landing", "storage"),
        component("landing", "load", "workload", depends_on=["landing"]),
        component("landing", "settled", "outputport", depends_on=["load"], columns=PEOPLE[:2]),
        component("landing", "daily-totals", "outputport", depends_on=["landing"], columns=PEOPLE[::3]),
        component(
            "landing",
            "custom",
            "outputport",
            depends_on=["landing"],
            columns=[PEOPLE[0]],
            specific={"viewSql": "SELECT id FROM settled_data"},
        ),
    )
    for short in ("landing", "load", "settled", "daily-totals", "custom"):
        assert backend.validate(request(product, short)) == [], short
    schema = schema_of("landing")

    storage = backend.provision(request(product, "landing"))

    assert storage.status == "COMPLETED", storage.logs
    assert columns_of(schema, "settled_data") == [
        ("id", "integer", None, 32, 0, "NO"),
        ("name", "character varying", 50, None, None, "NO"),
    ]
    assert [row[0] for row in columns_of(schema, "daily_totals_data")] == ["id", "balance"]
    assert keys_of(schema, "settled_data") == {("PRIMARY KEY", "id")}
    assert storage.public_info["tables"]["value"] == "settled_data, daily_totals_data"
    assert not exists(schema, "custom_data")

    for short in ("settled", "daily-totals", "custom"):
        assert backend.provision(request(product, short)).status == "COMPLETED", short
    assert view_sources(schema) == {
        ("settled", "settled_data"),
        ("daily_totals", "daily_totals_data"),
        ("custom", "settled_data"),
    }
    with target_connection() as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1, 'Ada')").format(sql.Identifier(schema, "settled_data")))
    assert query(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, "settled"))) == [(1, "Ada")]

    for short in ("custom", "settled", "daily-totals"):
        assert backend.unprovision(request(product, short, remove_data=True)).status == "COMPLETED"
    removed = backend.unprovision(request(product, "landing", remove_data=True))
    assert removed.status == "COMPLETED", removed.logs
    assert query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]) == []


def test_a_port_with_no_storage_behind_it_keeps_its_own_table_that_only_remove_data_drops():
    product = data_product("invoices", component("invoices", "open-invoices", "outputport", columns=PEOPLE[:2]))
    schema = schema_of("invoices")
    assert backend.validate(request(product, "open-invoices")) == []

    outcome = backend.provision(request(product, "open-invoices"))

    assert outcome.status == "COMPLETED", outcome.logs
    assert [row[:2] for row in columns_of(schema, "open_invoices_data")] == [
        ("id", "integer"),
        ("name", "character varying"),
    ]
    assert view_sources(schema) == {("open_invoices", "open_invoices_data")}
    info = {key: value["value"] for key, value in outcome.public_info.items()}
    assert (info["view"], info["tables"]) == ("open_invoices", "open_invoices_data")
    assert "created table" in messages(outcome) and "created view" in messages(outcome)
    again = backend.provision(request(product, "open-invoices"))
    assert again.status == "COMPLETED" and "unchanged" in messages(again)

    kept = backend.unprovision(request(product, "open-invoices"))
    assert kept.status == "COMPLETED"
    assert exists(schema, "open_invoices") and exists(schema, "open_invoices_data")

    dropped = backend.unprovision(request(product, "open-invoices", remove_data=True))
    assert dropped.status == "COMPLETED", dropped.logs
    assert not exists(schema, "open_invoices") and not exists(schema, "open_invoices_data")
    assert query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]) == []


def test_a_data_table_that_would_take_another_ports_view_name_or_63_bytes_is_refused():
    product = data_product(
        "clash",
        component("clash", "totals", "outputport", columns=PEOPLE[:1]),
        component("clash", "totals-data", "outputport", columns=PEOPLE[:1]),
        component("clash", "long", "outputport", columns=PEOPLE[:1], specific={"viewName": "v" * 60}),
        component("clash", "named", "outputport", columns=PEOPLE[:1], specific={"tableName": "named_rows"}),
    )
    [problem] = backend.validate(request(product, "totals"))
    assert '"totals_data", would have the name of the view of' in problem and problem.endswith("tableName")
    assert backend.validate(request(product, "totals-data")) == []
    [problem] = backend.validate(request(product, "long"))
    assert "longer than PostgreSQL's 63 bytes once _data is added" in problem
    assert backend.validate(request(product, "named")) == []
    assert backend.provision(request(product, "named")).status == "COMPLETED"
    assert view_sources(schema_of("clash")) == {("named", "named_rows")}


# --- unprovision --------------------------------------------------------------------------------------------------


def test_unprovision_keeps_data_without_remove_data_and_drops_only_the_components_own_objects_with_it():
    product = people_product("gone")
    backend.provision(request(product, "people"))
    backend.provision(request(product, "people-port"))
    schema = schema_of("gone")

    kept = backend.unprovision(request(product, "people-port"))
    assert kept.status == "COMPLETED"
    assert "data kept" in messages(kept)
    assert exists(schema, "people_port")

    blocked = backend.unprovision(request(product, "people", remove_data=True))
    assert blocked.status == "FAILED"
    assert "still used by other objects" in blocked.result and "people_port" in blocked.result
    assert exists(schema, "people") and exists(schema, "people_port")

    dropped = backend.unprovision(request(product, "people-port", remove_data=True))
    assert dropped.status == "COMPLETED", dropped.logs
    assert not exists(schema, "people_port")
    # someone else's view on the table: never dropped along with it
    with target_connection() as conn:
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT id FROM {}").format(
                sql.Identifier(schema, "foreign"), sql.Identifier(schema, "people")
            )
        )
    assert backend.unprovision(request(product, "people", remove_data=True)).status == "FAILED"
    with target_connection() as conn:
        conn.execute(sql.SQL("DROP VIEW {}").format(sql.Identifier(schema, "foreign")))

    outcome = backend.unprovision(request(product, "people", remove_data=True))
    assert outcome.status == "COMPLETED", outcome.logs
    assert not exists(schema, "people")
    assert query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]) == []
    assert "dropped schema" in messages(outcome)


# --- access -------------------------------------------------------------------------------------------------------


def test_update_acl_grants_then_revokes_as_desired_state_and_set_role_shows_it():
    product = people_product("access")
    backend.provision(request(product, "people"))
    backend.provision(request(product, "people-port"))
    schema = schema_of("access")
    with target_connection() as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1, 'Ada', NULL, 3)").format(sql.Identifier(schema, "people")))
    alice, team = role_name("user:alice", PREFIX), role_name("group:default/team-a", PREFIX)

    outcome = backend.update_acl(["user:alice", "group:default/team-a"], request(product, "people-port"))

    assert outcome.status == "COMPLETED", outcome.logs
    assert alice == f"{PREFIX}user_alice" and team.startswith(f"{PREFIX}group_team_a_")
    assert query(
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN (%s, %s) ORDER BY 1", [alice, team]
    ) == sorted([(alice, False), (team, False)])
    assert grantees(schema, "people_port") == {alice, team}
    assert select_as(alice, schema, "people_port") == [(1, "Ada")]
    assert select_as(team, schema, "people_port") == [(1, "Ada")]
    with pytest.raises(errors.InsufficientPrivilege):
        select_as(alice, schema, "people")  # the view is granted, not the table under it

    outcome = backend.update_acl(["group:default/team-a"], request(product, "people-port"))

    assert outcome.status == "COMPLETED", outcome.logs
    assert f"revoked the SELECT of {alice}" in messages(outcome)
    assert grantees(schema, "people_port") == {team}
    with pytest.raises(errors.InsufficientPrivilege):
        select_as(alice, schema, "people_port")
    assert select_as(team, schema, "people_port") == [(1, "Ada")]
    assert query("SELECT has_schema_privilege(%s, %s, 'USAGE')", [alice, schema]) == [(False,)]

    assert backend.update_acl([], request(product, "people-port")).status == "COMPLETED"
    assert grantees(schema, "people_port") == set()


def test_grants_survive_a_reprovision_that_recreates_the_view_and_wait_for_a_view_not_there_yet():
    product = people_product("keep")
    backend.provision(request(product, "people"))
    early = backend.update_acl(["user:bob"], request(product, "people-port"))
    assert "does not exist yet" in messages(early)
    bob = role_name("user:bob", PREFIX)

    assert backend.provision(request(product, "people-port")).status == "COMPLETED"
    assert grantees(schema_of("keep"), "people_port") == {bob}

    reshaped = people_product("keep", PEOPLE[1], PEOPLE[0])
    outcome = backend.provision(request(reshaped, "people-port"))

    assert "re-created view" in messages(outcome)
    assert grantees(schema_of("keep"), "people_port") == {bob}
    assert select_as(bob, schema_of("keep"), "people_port") == []


def test_concurrent_acl_calls_on_ports_of_one_product_create_each_role_once_and_all_succeed():
    product = data_product(
        "busy",
        component("busy", "people", "storage", columns=PEOPLE),
        *(component("busy", f"port-{n}", "outputport", depends_on=["people"], columns=PEOPLE[:2]) for n in range(3)),
    )
    for short in ("people", "port-0", "port-1", "port-2"):
        assert backend.provision(request(product, short)).status == "COMPLETED"
    refs = [f"user:racer-{n}" for n in range(4)]

    def grant(index: int):
        return backend.update_acl(refs[: 2 + index % 3], request(product, f"port-{index % 3}"))

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(grant, range(6)))

    assert [outcome.status for outcome in outcomes] == ["COMPLETED"] * 6, [o.result for o in outcomes]
    for n in range(3):
        assert grantees(schema_of("busy"), f"port_{n}") == {role_name(ref, PREFIX) for ref in refs[: 2 + n]}


def test_malformed_refs_are_refused_naming_each_one_and_nothing_changes():
    product = people_product("refs")
    backend.provision(request(product, "people"))
    backend.provision(request(product, "people-port"))
    backend.update_acl(["user:carol"], request(product, "people-port"))

    with pytest.raises(AdapterRefusal) as refusal:
        backend.update_acl(["user:dave", "dave", "team:x", "group:", 7], request(product, "people-port"))

    assert refusal.value.input_error_field == "refs"
    assert [error.split(": ", 1)[1] for error in refusal.value.errors] == [
        '"dave" is not user:<name> or group:<name>',
        '"team:x" is not user:<name> or group:<name>',
        '"group:" is not user:<name> or group:<name>',
        "a number is not user:<name> or group:<name>",
    ]
    assert grantees(schema_of("refs"), "people_port") == {role_name("user:carol", PREFIX)}
    with pytest.raises(AdapterRefusal):
        backend.update_acl(["user:carol"], request(product, "people"))  # a storage has no view to grant


def test_role_names_are_sanitised_without_two_identities_sharing_a_role():
    assert role_name("user:alice", "mf_") == "mf_user_alice"
    assert role_name("User:Alice", "mf_") == "mf_user_alice"  # Backstage names ignore case
    dotted, underscored = role_name("user:a.b", "mf_"), role_name("user:a_b", "mf_")
    assert underscored == "mf_user_a_b" and dotted.startswith("mf_user_a_b_") and dotted != underscored
    assert role_name("group:default/team-a", "mf_") == role_name("group:team-a", "mf_")
    long = role_name("user:" + "x" * 100, "mf_")
    assert len(long) == 63 and long != role_name("user:" + "x" * 101, "mf_")


# --- reverse provisioning ---------------------------------------------------------------------------------------


def test_reverse_provisioning_reads_the_columns_back_and_keeps_what_the_contract_says_of_them():
    product = data_product("back", component("back", "facts", "storage", columns=ALL_TYPES[:5] + ALL_TYPES[-4:]))
    backend.provision(request(product, "facts"))
    catalog_info = {
        "metadata": {"name": f"{DOMAIN}.back.1.facts"},
        "spec": {
            "type": "storage",
            "mesh": {
                "kind": "storage",
                "dataContract": {"schema": [{"name": "day", "dataType": "STRING", "description": "Business day"}]},
            },
        },
    }

    status = backend.reverse_provision("urn:dmb:utm:postgres-storage-template:0.0.0", "development", {}, catalog_info)

    assert status["status"] == "COMPLETED", status["logs"]
    assert status["updates"] == {
        "spec.mesh.dataContract.schema": [
            {"description": "Business day", "name": "day", "dataType": "DATE", "constraint": "PRIMARY_KEY"},
            {"name": "location_key", "dataType": "TEXT", "constraint": "PRIMARY_KEY"},
            {"name": "persons", "dataType": "NUMERIC", "precision": 38, "scale": 0, "constraint": "NOT_NULL"},
            {"name": "amount", "dataType": "NUMERIC", "precision": 12, "scale": 2},
            {"name": "ratio", "dataType": "NUMERIC"},
            {"name": "doc", "dataType": "JSON", "jsonSchema": "{}"},
            {"name": "uid", "dataType": "UUID"},
            {"name": "scores", "dataType": "ARRAY", "arrayDataType": "INT"},
            {"name": "aliases", "dataType": "ARRAY", "arrayDataType": "VARCHAR"},
        ]
    }

    port = people_product("back", *PEOPLE[:2])
    backend.provision(request(port, "people"))
    backend.provision(request(port, "people-port"))
    port_info = {"metadata": {"name": f"{DOMAIN}.back.1.people-port"}, "spec": {"mesh": {"kind": "outputport"}}}
    status = backend.reverse_provision("t", "development", {}, port_info)
    assert status["updates"]["spec.mesh.dataContract.schema"] == [
        {"name": "id", "dataType": "INT"},
        {"name": "name", "dataType": "VARCHAR", "dataLength": 50},
    ]
    by_params = backend.reverse_provision("t", "development", {"table": "people"}, port_info)
    assert [column["name"] for column in by_params["updates"]["spec.mesh.dataContract.schema"]] == [
        "id",
        "name",
        "email",
        "balance",
    ]

    missing = backend.reverse_provision("t", "development", {"view": "nothing_here"}, port_info)
    assert missing["status"] == "FAILED" and missing["updates"] == {}
    assert "no table or view" in missing["logs"][0]["message"]

    for absent in (None, {}):
        with pytest.raises(AdapterRefusal) as refusal:
            backend.reverse_provision("t", "development", {}, absent)
        assert refusal.value.input_error_field == "catalogInfo"


# --- names ----------------------------------------------------------------------------------------------------------


def test_identifiers_with_odd_characters_are_quoted_safely():
    table, view = 'we"ird; DROP TABLE x; --', 'v\'iew "quoted"'
    columns = [
        {"name": "Mixed Case", "dataType": "INT", "constraint": "PRIMARY_KEY"},
        {"name": 'a"b', "dataType": "TEXT"},
        {"name": "semi;colon --", "dataType": "DATE"},
    ]
    storage = component("Odd-Name", "store", "storage", columns=columns, specific={"tableName": table})
    port = component(
        "Odd-Name", "port", "outputport", depends_on=["store"], columns=columns[:2], specific={"viewName": view}
    )
    product = data_product("Odd-Name", storage, port)
    schema = f"{DOMAIN}_odd_name_1"

    assert backend.provision(request(product, "store")).status == "COMPLETED"
    assert backend.provision(request(product, "port")).status == "COMPLETED"
    odd_ref = "user:o'brien.x"
    assert backend.update_acl([odd_ref], request(product, "port")).status == "COMPLETED"

    assert [row[0] for row in columns_of(schema, table)] == ["Mixed Case", 'a"b', "semi;colon --"]
    assert [row[0] for row in columns_of(schema, view)] == ["Mixed Case", 'a"b']
    assert select_as(role_name(odd_ref, PREFIX), schema, view) == []
    status = backend.reverse_provision(
        "t",
        "development",
        {},
        {"metadata": {"name": f"{DOMAIN}.Odd-Name.1.port"}, "spec": {"mesh": {"specific": {"viewName": view}}}},
    )
    assert [column["name"] for column in status["updates"]["spec.mesh.dataContract.schema"]] == ["Mixed Case", 'a"b']

    too_long = component("Odd-Name", "long", "storage", columns=[{"name": "c" * 64, "dataType": "INT"}])
    [problem] = backend.validate(request(data_product("Odd-Name", too_long), "long"))
    assert "longer than PostgreSQL's 63 bytes" in problem


# --- environments ---------------------------------------------------------------------------------------------------


def in_environment(product: dict, environment) -> dict:
    return {**product, "environment": environment}


def drop_database(name: str) -> None:
    with target_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def databases_like(pattern: str) -> list[str]:
    return [name for (name,) in query("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", [pattern])]


def test_each_environment_has_its_own_database_named_after_the_first_and_made_on_first_use(settings):
    settings.MESHFORGE_ENVIRONMENTS = ["development", "qa", "pre-prod"]
    product = data_product("envs", component("envs", "facts", "storage", columns=PEOPLE))
    schema = schema_of("envs")
    try:
        outcomes = {
            environment: backend.provision(request(in_environment(product, environment), "facts"))
            for environment in ("qa", "pre-prod")
        }
        assert [outcome.status for outcome in outcomes.values()] == ["COMPLETED"] * 2
        assert outcomes["qa"].public_info["database"]["value"] == "meshforge_data_qa"
        assert "meshforge_data_qa" in outcomes["qa"].public_info["connectionString"]["value"]
        assert outcomes["pre-prod"].public_info["database"]["value"] == "meshforge_data_pre_prod"
        for environment, database in (("qa", "meshforge_data_qa"), ("pre-prod", "meshforge_data_pre_prod")):
            with target_connection(environment) as conn:
                assert conn.info.dbname == database
                assert conn.execute("SELECT to_regclass(%s)", [f'"{schema}"."facts"']).fetchone()[0] is not None
        assert not exists(schema, "facts")  # the first environment's database has nothing of theirs
    finally:
        drop_database("meshforge_data_qa")
        drop_database("meshforge_data_pre_prod")


def test_a_target_url_gives_the_first_environments_database_and_names_the_others(settings):
    with target_connection() as conn:
        host, port, user = conn.info.host, conn.info.port, conn.info.user
    base = f"pgt_url_{DOMAIN}"
    product = data_product("byenv", component("byenv", "facts", "storage", columns=PEOPLE))
    drop_database(base)
    try:
        with target_connection() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(base)))
        settings.PROVISIONING_POSTGRES_URL = f"postgresql://{user}@/{base}?host={host}&port={port}"
        development = backend.provision(request(product, "facts"))
        qa = backend.provision(request(in_environment(product, "qa"), "facts"))
        assert (development.status, qa.status) == ("COMPLETED", "COMPLETED")
        # <database>_<environment> is Meshforge's name, so it is made (through the URL's database)
        assert development.public_info["database"]["value"] == base
        assert qa.public_info["database"]["value"] == f"{base}_qa"

        # {environment} in the name: the operator's databases, used as given, never created
        settings.PROVISIONING_POSTGRES_URL = f"postgresql://{user}@/{base}_{{environment}}?host={host}&port={port}"
        assert backend.provision(request(in_environment(product, "qa"), "facts")).public_info["database"]["value"] == (
            f"{base}_qa"
        )
        with pytest.raises(psycopg.OperationalError):
            backend.provision(request(product, "facts"))
        settings.PROVISIONING_POSTGRES_URL = None
        assert databases_like(f"{base}%") == [base, f"{base}_qa"]
    finally:
        settings.PROVISIONING_POSTGRES_URL = None
        drop_database(f"{base}_qa")
        drop_database(base)


def test_a_request_without_a_known_environment_is_refused_at_validate():
    product = data_product("noenv", component("noenv", "facts", "storage", columns=PEOPLE))
    for environment, complaint in ((None, "names no environment"), ("staging", '"staging" is not an environment')):
        undecided = request(in_environment(product, environment), "facts")
        [problem] = backend.validate(undecided)
        assert problem.startswith("dataProduct.environment: ") and complaint in problem
        with pytest.raises(AdapterRefusal):
            backend.provision(undecided)
    catalog_info = {"metadata": {"name": f"{DOMAIN}.noenv.1.facts"}, "spec": {"mesh": {"kind": "storage"}}}
    with pytest.raises(AdapterRefusal) as refusal:
        backend.reverse_provision("t", "staging", {}, catalog_info)
    assert refusal.value.input_error_field == "environment"
