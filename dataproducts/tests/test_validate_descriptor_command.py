"""``manage.py validate_descriptor FILE…`` (PRODUCT §4.3): one line per problem naming the file and the path,
``FILE: valid`` otherwise, and a non-zero exit when any file is invalid or unreadable."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from core.yaml import load

FIXTURES = Path(settings.BASE_DIR) / "tests" / "data" / "witboost"
DATA = Path(__file__).parent / "data" / "descriptors"
DESCRIPTOR_FIXTURES = [
    "dps-example.yaml",
    "scaffold-data_product_valid.yaml",
    "scaffold-descriptor_output_port_valid.yaml",
    "scaffold-descriptor_storage_valid.yaml",
]


def run(*files: str | Path) -> str:
    """Run the command; return its standard output. A CommandError propagates."""
    out = io.StringIO()
    call_command("validate_descriptor", *map(str, files), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_failing(*files: str | Path) -> tuple[CommandError, list[str]]:
    """Run the command expecting it to fail; return the error and the lines printed before."""
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("validate_descriptor", *map(str, files), stdout=out, stderr=io.StringIO())
    return failure.value, out.getvalue().splitlines()


def variant(tmp_path: Path, fixture: str, mutate: Callable[[dict], None], name: str) -> Path:
    """A fixture loaded, changed by ``mutate`` and written to ``tmp_path/name`` as JSON (which YAML 1.2 reads)."""
    document = load((FIXTURES / fixture).read_text(), source=fixture)
    mutate(document)
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2))
    return path


def test_every_descriptor_fixture_is_reported_valid():
    paths = [FIXTURES / name for name in DESCRIPTOR_FIXTURES]
    assert run(*paths).splitlines() == [f"{path}: valid" for path in paths]


def _wrong_id(document: dict) -> None:
    document["id"] = "my_domain.my_data_product.1"


def _component_major(document: dict) -> None:
    document["components"][1]["id"] = "urn:dmb:cmp:my_domain:my_data_product:2:my_view_impala_port"


def _version(document: dict) -> None:
    document["version"] = "1.0"


def _kind(document: dict) -> None:
    document["components"][2]["kind"] = "dashboard"


def _missing_target(document: dict) -> None:
    document["componentIdToProvision"] = "urn:dmb:cmp:healthcare:vaccinations:0:nowhere"


def _dangling(document: dict) -> None:
    document["components"][1]["dependsOn"] = ["urn:dmb:cmp:my_domain:my_data_product:1:nowhere"]


def _cycle(document: dict) -> None:
    document["components"][0]["dependsOn"] = ["urn:dmb:cmp:my_domain:my_data_product:1:my_view_impala_port"]


def _data_type(document: dict) -> None:
    document["dataProduct"]["components"][1]["dataContract"]["schema"][2]["dataType"] = "NUMBER2"


INVALID = [
    # (mutation, fixture, expected "path: message" start)
    (_wrong_id, "dps-example.yaml", 'id: "my_domain.my_data_product.1" is not valid'),
    (_component_major, "dps-example.yaml", 'components[1].id: "urn:dmb:cmp:my_domain:my_data_product:2:'),
    (_version, "dps-example.yaml", 'version: "1.0" is not valid'),
    (_kind, "dps-example.yaml", 'components[2].kind: "dashboard" is not valid'),
    (_missing_target, "scaffold-descriptor_storage_valid.yaml", "componentIdToProvision: "),
    (_dangling, "dps-example.yaml", "components[1].dependsOn[0]: "),
    (_cycle, "dps-example.yaml", "components[0].dependsOn[0]: "),
    (_data_type, "scaffold-descriptor_output_port_valid.yaml", "dataProduct.components[1].dataContract.schema[2]."),
]


@pytest.mark.parametrize(("mutate", "fixture", "expected"), INVALID, ids=[case[0].__name__[1:] for case in INVALID])
def test_an_invalid_descriptor_fails_naming_the_file_and_the_path(tmp_path, mutate, fixture, expected):
    path = variant(tmp_path, fixture, mutate, "descriptor.yaml")
    error, lines = run_failing(path)
    assert error.returncode == 1
    assert any(line.startswith(f"{path}: {expected}") for line in lines), lines
    assert f"{path}: valid" not in lines


def test_every_file_is_checked_and_one_invalid_file_fails_the_run(tmp_path):
    invalid = variant(tmp_path, "dps-example.yaml", _version, "invalid.yaml")
    valid = FIXTURES / "scaffold-data_product_valid.yaml"
    error, lines = run_failing(valid, invalid)
    assert str(error) == "1 of 2 descriptor files are invalid"
    assert lines == [
        f"{valid}: valid",
        f'{invalid}: version: "1.0" is not valid; expected <major>.<minor>.<patch> such as 1.2.0, '
        "or a draft <major>.<minor>-SNAPSHOT-<n>",
    ]


def test_a_missing_file_is_a_problem_of_that_file_not_a_crash(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    valid = FIXTURES / "dps-example.yaml"
    error, lines = run_failing(missing, valid)
    assert error.returncode == 1
    assert lines == [f"{missing}: file: cannot be read (No such file or directory)", f"{valid}: valid"]


def test_a_yaml_error_names_the_line_and_column():
    path = DATA / "broken-syntax.yaml"
    _, lines = run_failing(path)
    assert lines == [
        f"{path}: line 4, column 11: did not find expected ',' or '}}' "
        "(while parsing a flow mapping at line 3, column 11)"
    ]


def test_an_unquoted_version_is_explained():
    path = DATA / "unquoted-version.yaml"
    _, lines = run_failing(path)
    assert lines == [f'{path}: version: must be a string such as "1.0.0", not the number 1.0 (quote it in YAML)']


def test_a_wrapper_naming_no_component_is_invalid():
    path = DATA / "wrapper-unknown-target.yaml"
    _, lines = run_failing(path)
    assert lines == [
        f'{path}: componentIdToProvision: "urn:dmb:cmp:finance:cashflow:1:daily-balances" names no component of '
        "dataProduct.components"
    ]


def test_an_empty_file_is_invalid(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")
    _, lines = run_failing(path)
    assert lines == [f"{path}: descriptor: must be an object, not null"]


def test_the_command_exits_non_zero_only_when_a_file_is_invalid(tmp_path):
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    def manage(*files: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "validate_descriptor", *map(str, files)]
        return subprocess.run(command, cwd=settings.BASE_DIR, env=environ, capture_output=True, text=True, timeout=60)

    valid = manage(*(FIXTURES / name for name in DESCRIPTOR_FIXTURES))
    assert valid.returncode == 0, valid.stderr
    invalid = manage(FIXTURES / "dps-example.yaml", DATA / "unquoted-version.yaml")
    assert invalid.returncode == 1
    assert f"{FIXTURES / 'dps-example.yaml'}: valid" in invalid.stdout
