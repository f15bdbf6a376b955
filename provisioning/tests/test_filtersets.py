"""Provisioning's FilterSets, shared by its pages and its API: a filter for every field the lists show and people
look rows up by, each narrowing the list as its name says."""

from __future__ import annotations

import pytest
from django.db.models import ManyToOneRel

from provisioning.choices import DeploymentOperation, DeploymentStatus, UnitStatus
from provisioning.filtersets import DeploymentFilterSet, DeploymentUnitFilterSet, TechAdapterFilterSet
from provisioning.models import Deployment, DeploymentUnit, TechAdapter
from provisioning.testing.factories import (
    DeploymentFactory,
    DeploymentUnitFactory,
    TechAdapterFactory,
    product_release_make,
)

pytestmark = pytest.mark.django_db

# Model fields that get no filter of their own, and why. Every other field must have one.
NOT_FILTERED = {
    TechAdapter: {
        "id": "internal",
        "description": "searched by q",
        "connect_timeout": "a setting of the row, not what one looks an adapter up by",
        "request_timeout": "a setting of the row",
        "operation_timeout": "a setting of the row",
        "poll_interval": "a setting of the row",
        "auth_header": "a setting of the row",
        "auth_env": "a setting of the row",
        "async_validation_unsupported": "what the adapter answered, shown next to async_validation",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    Deployment: {
        "id": "the page's address",
        "release": "filtered by its version",
        "descriptor": "a document, not a property",
        "previous_descriptor": "a document",
        "problems": "a document",
        "warnings": "a document",
        "error": "free text",
        "runner": "the worker's internal claim",
        "heartbeat_at": "the worker's internal beat",
        "created_by": "filtered by the name kept beside it (created_by_name), which outlives the account",
        "validated_at": "between created_at and finished_at, which are filtered",
        "started_at": "between created_at and finished_at, which are filtered",
    },
    DeploymentUnit: {
        "id": "internal",
        "enriched_descriptor": "a document",
        "last_deployment": "a link to follow, not a filter",
        "deployed_at": "shown, not looked up by",
        "updated_at": "bookkeeping",
    },
}
# The filter names that differ from the field they filter (a range filter's pair counts for its field).
FILTER_NAMES = {
    Deployment: {
        "created_by_name": "created_by",
        "created_at": "created_after",
        "finished_at": "finished_after",
    },
    DeploymentUnit: {"product": "data_product"},
}
FILTERSETS = {
    TechAdapter: TechAdapterFilterSet,
    Deployment: DeploymentFilterSet,
    DeploymentUnit: DeploymentUnitFilterSet,
}


@pytest.mark.django_db(False)
@pytest.mark.parametrize("model", list(FILTERSETS), ids=lambda model: model.__name__)
def test_every_model_field_meant_for_filtering_has_a_filter(model):
    filters = FILTERSETS[model].get_filters()
    missing = [
        field.name
        for field in model._meta.get_fields()
        if not isinstance(field, ManyToOneRel)  # reverse relations are filtered from their own side
        and field.name not in NOT_FILTERED[model]
        and FILTER_NAMES.get(model, {}).get(field.name, field.name) not in filters
    ]
    assert missing == []


@pytest.mark.django_db(False)
@pytest.mark.parametrize("model", list(FILTERSETS), ids=lambda model: model.__name__)
def test_the_exemptions_name_real_fields(model):
    # a field renamed on the model must not hide behind a stale exemption
    fields = {field.name for field in model._meta.get_fields()}
    assert set(NOT_FILTERED[model]) <= fields and set(FILTER_NAMES.get(model, {})) <= fields


@pytest.mark.django_db(False)
def test_every_column_of_the_deployments_list_has_a_filter():
    # the columns of provisioning/partials/deployment_table.html, by the filter that narrows each
    columns = ["product", "operation", "version", "environment", "status", "created_by", "created_after"]
    assert set(columns) <= set(DeploymentFilterSet.get_filters())


@pytest.fixture
def deployments(cashflow, build_dp, alice, bob):
    release = product_release_make(cashflow, "0.1.0")
    other = product_release_make(build_dp(alice, name="ledger"), "1.0.0")
    return {
        "done": DeploymentFactory(release=release, status=DeploymentStatus.SUCCEEDED, created_by=alice),
        "failed": DeploymentFactory(release=other, status=DeploymentStatus.FAILED, created_by=bob, environment="qa"),
        "undeploy": DeploymentFactory(
            release=release,
            status=DeploymentStatus.RUNNING,
            operation=DeploymentOperation.UNDEPLOY,
            remove_data=True,
            environment="qa",
        ),
    }


def deployed(data: dict) -> set[str]:
    filterset = DeploymentFilterSet(data, queryset=Deployment.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, {"done", "failed", "undeploy"}),
        ({"product": "finance.cashflow.0"}, {"done", "undeploy"}),
        ({"product": "URN:DMB:DP:FINANCE:LEDGER:0"}, {"failed"}),
        ({"version": "1.0.0"}, {"failed"}),
        ({"environment": "qa"}, {"failed", "undeploy"}),
        ({"operation": "undeploy"}, {"undeploy"}),
        ({"status": ["failed", "succeeded"]}, {"done", "failed"}),
        ({"active": "true"}, {"undeploy"}),
        ({"active": "false"}, {"done", "failed"}),
        ({"remove_data": "true"}, {"undeploy"}),
        ({"created_by": "Alice"}, {"done"}),
        ({"created_by": "system"}, {"undeploy"}),
        ({"finished_after": "2000-01-01T00:00:00Z"}, {"done", "failed"}),
    ],
)
def test_each_deployment_filter_narrows_the_list(deployments, data, expected):
    assert deployed(data) == {deployments[name].pk for name in expected}


def test_a_retry_is_found_by_the_deployment_it_retries(deployments):
    retry = DeploymentFactory(release=deployments["failed"].release, retry_of=deployments["failed"])

    assert deployed({"retry_of": str(deployments["failed"].pk)}) == {retry.pk}


@pytest.mark.parametrize("data", [{"status": "exploded"}, {"environment": "staging"}, {"operation": "explode"}])
def test_an_unknown_choice_is_an_error_of_its_filter(data):
    filterset = DeploymentFilterSet(data, queryset=Deployment.objects.none())

    assert not filterset.is_valid() and list(filterset.errors) == list(data)


def test_the_adapter_filters_narrow_the_registry(db):
    mock = TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:mock:0", builtin="mock", environment="qa")
    external = TechAdapterFactory(
        infrastructure_template_id="urn:dmb:itm:spark:0", url="https://spark.example.com/", async_validation=True
    )

    def found(data: dict) -> set[int]:
        filterset = TechAdapterFilterSet(data, queryset=TechAdapter.objects.all())
        assert filterset.is_valid(), filterset.errors
        return set(filterset.qs.values_list("pk", flat=True))

    assert found({"environment": "qa"}) == {mock.pk}
    assert found({"is_builtin": "true"}) == {mock.pk} and found({"is_builtin": "false"}) == {external.pk}
    assert found({"builtin": "MOCK"}) == {mock.pk}
    assert found({"async_validation": "true"}) == {external.pk}
    assert found({"url": "spark.example"}) == {external.pk}
    assert found({"infrastructure_template_id": "URN:DMB:ITM:SPARK:0"}) == {external.pk}
    assert found({"q": "spark"}) == {external.pk}


def test_the_unit_filters_narrow_the_units(cashflow, release):
    development = DeploymentUnitFactory(release=release)
    qa = DeploymentUnitFactory(release=release, environment="qa", status=UnitStatus.CORRUPT)

    def found(data: dict) -> set[int]:
        filterset = DeploymentUnitFilterSet(data, queryset=DeploymentUnit.objects.all())
        assert filterset.is_valid(), filterset.errors
        return set(filterset.qs.values_list("pk", flat=True))

    assert found({"data_product": cashflow.name}) == {development.pk, qa.pk}
    assert found({"data_product": "finance.other.0"}) == set()
    assert found({"status": "corrupt"}) == {qa.pk}
    assert found({"environment": "development", "release": "0.1.0"}) == {development.pk}


def test_a_time_with_an_offset_the_database_refuses_is_sent_in_utc(deployments):
    # PostgreSQL refuses offsets beyond ±15:59, which Python parses
    assert deployed({"created_before": "2999-07-04T13:06:28-19:36"}) == {d.pk for d in deployments.values()}


def test_a_time_beyond_the_calendar_in_utc_is_an_error_of_its_filter(db):
    filterset = DeploymentFilterSet({"created_after": "9999-12-31T23:00:00-05:00"}, queryset=Deployment.objects.none())

    assert not filterset.is_valid() and list(filterset.errors) == ["created_after"]
