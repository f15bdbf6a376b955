"""What changed between two descriptors and how much it weighs (``dataproducts.descriptor.changes``): each breaking
kind, each non-breaking one."""

from __future__ import annotations

import copy

import pytest

from dataproducts.descriptor.changes import ChangeLevel, breaking_changes, change_level, descriptor_changes

PORT = "urn:dmb:cmp:finance:cashflow:0:balances"
WORKLOAD = "urn:dmb:cmp:finance:cashflow:0:load"
BASE = {
    "id": "urn:dmb:dp:finance:cashflow:0",
    "name": "Cash flow",
    "description": "Operating cash flows",
    "version": "0.1.0",
    "tags": [],
    "specific": {},
    "components": [
        {
            "id": PORT,
            "kind": "outputport",
            "description": "Balances",
            "version": "0.1.0",
            "outputPortType": "SQL",
            "dataContract": {
                "schema": [
                    {"name": "day", "dataType": "DATE", "constraint": "PRIMARY_KEY"},
                    {"name": "iban", "dataType": "VARCHAR", "dataLength": 34},
                    {"name": "balance", "dataType": "DECIMAL", "precision": 12, "scale": 2},
                ],
                "termsAndConditions": "Internal use",
            },
        },
        {"id": WORKLOAD, "kind": "workload", "version": "0.1.0", "dependsOn": [PORT]},
    ],
}


def changed(change) -> dict:
    descriptor = copy.deepcopy(BASE)
    change(descriptor)
    return descriptor


def port(descriptor: dict) -> dict:
    return descriptor["components"][0]


def columns(descriptor: dict) -> list[dict]:
    return port(descriptor)["dataContract"]["schema"]


BREAKING = {
    "output port removed": (lambda d: d["components"].pop(0), "components[0]: the output port"),
    "column removed": (lambda d: columns(d).pop(1), "the column iban was removed or renamed"),
    "column renamed": (lambda d: columns(d)[1].update(name="account"), "the column iban was removed or renamed"),
    "column retyped": (lambda d: columns(d)[0].update(dataType="TIMESTAMP"), "retyped from DATE to TIMESTAMP"),
    "length narrowed": (lambda d: columns(d)[1].update(dataLength=20), "dataLength of iban changed from 34 to 20"),
    "scale changed": (lambda d: columns(d)[2].update(scale=4), "scale of balance changed from 2 to 4"),
    "constraint added": (lambda d: columns(d)[1].update(constraint="NOT_NULL"), "gained the constraint NOT_NULL"),
    "port type changed": (lambda d: port(d).update(outputPortType="Files"), "output port type changed"),
    "port made a workload": (lambda d: port(d).update(kind="workload"), "is now a workload: its consumers lose it"),
}


@pytest.mark.parametrize("name", BREAKING)
def test_each_breaking_change_is_major_and_says_what_broke(name):
    change, text = BREAKING[name]

    found = breaking_changes(BASE, changed(change))

    assert found and all(change.level == ChangeLevel.MAJOR for change in found)
    assert any(text in str(change) for change in found), [str(change) for change in found]


NOT_BREAKING = {
    "column added": (lambda d: columns(d).append({"name": "currency", "dataType": "CHAR"}), ChangeLevel.MINOR),
    "length widened": (lambda d: columns(d)[1].update(dataLength=64), ChangeLevel.MINOR),
    "constraint dropped": (lambda d: columns(d)[0].pop("constraint"), ChangeLevel.MINOR),
    "component added": (lambda d: d["components"].append({"id": "urn:x", "kind": "storage"}), ChangeLevel.MINOR),
    "workload removed": (lambda d: d["components"].pop(1), ChangeLevel.MINOR),
    "terms changed": (lambda d: port(d)["dataContract"].update(termsAndConditions="Public"), ChangeLevel.MINOR),
    "field added": (lambda d: d.update(informationSLA="2BD"), ChangeLevel.MINOR),
    "description changed": (lambda d: d.update(description="Cash in and out"), ChangeLevel.PATCH),
    "column description": (lambda d: columns(d)[0].update(description="The day"), ChangeLevel.PATCH),
    "tags changed": (lambda d: d.update(tags=[{"tagFQN": "finance"}]), ChangeLevel.PATCH),
    "port description": (lambda d: port(d).update(description="Daily balances"), ChangeLevel.PATCH),
    "versions only": (lambda d: [d.update(version="0.2.0"), port(d).update(version="0.2.0")], None),
}


@pytest.mark.parametrize("name", NOT_BREAKING)
def test_each_other_change_is_minor_or_patch(name):
    change, level = NOT_BREAKING[name]

    found = descriptor_changes(BASE, changed(change))

    assert not [change for change in found if change.breaking]
    assert change_level(found) == level


def test_breaking_changes_come_first_and_name_their_path():
    found = descriptor_changes(BASE, changed(lambda d: [columns(d).pop(1), d.update(description="New")]))

    assert [change.level for change in found] == [ChangeLevel.MAJOR, ChangeLevel.PATCH]
    assert found[0].path == "components[0].dataContract.schema[1]"
    assert str(found[1]) == "description: changed"


def test_an_output_port_kind_in_any_case_is_an_output_port():
    previous = copy.deepcopy(BASE)
    port(previous)["kind"] = "outputPort"
    current = copy.deepcopy(previous)
    columns(current).pop(1)

    assert [str(change) for change in breaking_changes(previous, current)] == [
        "components[0].dataContract.schema[1]: the column iban was removed or renamed"
    ]
    assert breaking_changes(previous, {**previous, "components": []})
