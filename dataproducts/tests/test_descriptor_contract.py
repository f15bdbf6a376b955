"""The data contract reader: an output port's columns, terms and SLA read the same from a catalog document, its
spec.mesh or a built descriptor's component, and anything malformed reads as absent rather than raising."""

from __future__ import annotations

import pytest

from dataproducts.descriptor.contract import Column, DataContract, ServiceLevel, contract_of
from dataproducts.tests.test_descriptor_validate import EXAMPLE, fixture

CONTRACT = {
    "schema": [
        {"name": "amount", "dataType": "DECIMAL", "precision": 12, "scale": 2, "constraint": "NOT_NULL"},
        {"name": "code", "dataType": "VARCHAR", "dataLength": 3, "description": "ISO 4217", "tags": ["PII"]},
        {"name": "day", "dataType": "DATE", "tags": [{"tagFQN": "Time", "source": "Classification"}]},
    ],
    "termsAndConditions": "Internal use only",
    "SLA": {"intervalOfChange": "1 hours", "timeliness": "1 minutes", "upTime": "99.9%"},
}
EXPECTED = DataContract(
    columns=(
        Column(name="amount", data_type="DECIMAL", precision=12, scale=2, constraint="NOT_NULL"),
        Column(name="code", data_type="VARCHAR", data_length=3, description="ISO 4217", tags=("PII",)),
        Column(name="day", data_type="DATE", tags=("Time",)),
    ),
    terms_and_conditions="Internal use only",
    sla=ServiceLevel(interval_of_change="1 hours", timeliness="1 minutes", up_time="99.9%"),
)


@pytest.mark.parametrize(
    "source",
    [
        {"spec": {"mesh": {"dataContract": CONTRACT}}},  # a component's catalog document
        {"dataContract": CONTRACT},  # its spec.mesh, or a component of a built descriptor
    ],
)
def test_the_contract_reads_the_same_from_a_document_its_mesh_or_a_descriptor_component(source):
    assert contract_of(source) == EXPECTED


def test_a_column_type_is_spelled_with_its_sizes():
    assert [column.type_label for column in EXPECTED.columns] == ["DECIMAL(12, 2)", "VARCHAR(3)", "DATE"]


def test_the_dps_example_impala_port_has_a_contract_with_columns():
    contract = contract_of(fixture(EXAMPLE)["components"][1])

    assert contract is not None and contract.columns and contract.sla is not None
    assert contract.terms_and_conditions == "only usable in development environment"


@pytest.mark.parametrize(
    "source",
    [None, "text", {}, {"spec": {}}, {"dataContract": {}}, {"dataContract": ["schema"]}, {"spec": {"mesh": None}}],
)
def test_no_contract_reads_as_none(source):
    assert contract_of(source) is None


def test_malformed_parts_read_as_absent():
    contract = contract_of(
        {"dataContract": {"schema": [None, {"name": 5, "dataType": None, "scale": [1], "tags": "PII"}], "SLA": "fast"}}
    )

    assert contract == DataContract(columns=(Column(name="5", data_type=""),), terms_and_conditions="", sla=None)
