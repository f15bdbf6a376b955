"""Service errors carry their HTTP status, and the API maps them in one place."""

from django.core.exceptions import PermissionDenied
from rest_framework import exceptions

from core.errors import ServiceError, api_exception, error_status
from dataproducts.exceptions import CreationFailed, DataProductConflict, StaleEdit, TemplateError, ValuesInvalid
from dataproducts.gitops.provider import GitProviderError, HeadMoved, RepositoryNotWritable


def test_each_builder_error_carries_the_status_it_means():
    assert error_status(ValuesInvalid({"name": ["taken"]})) == 400
    assert error_status(TemplateError("broken")) == 400
    assert error_status(DataProductConflict("exists")) == 409
    assert error_status(StaleEdit("changed")) == 409
    assert error_status(RepositoryNotWritable("not ours")) == 409
    assert error_status(HeadMoved("moved")) == 409
    assert error_status(CreationFailed("commit", "disk full")) == 503
    assert error_status(GitProviderError("cannot read")) == 503
    assert error_status(PermissionDenied("not yours")) == 403


def test_an_exception_that_is_no_service_error_has_no_status_and_no_api_answer():
    assert error_status(ValueError("a bug")) is None
    assert api_exception(KeyError("a bug")) is None


def test_values_errors_become_a_400_naming_each_field_under_the_values_field():
    answer = api_exception(ValuesInvalid({"name": ["taken"], "": ["incomplete"]}), values_field="values")

    assert isinstance(answer, exceptions.ValidationError)
    assert answer.detail == {"values.name": ["taken"], "values": ["incomplete"]}


def test_an_error_about_one_request_field_names_that_field():
    answer = api_exception(TemplateError("renders no catalog-info.yaml"), values_field="values")

    assert answer.detail == {"template": ["renders no catalog-info.yaml"]}


def test_a_conflict_is_a_409_and_a_failed_step_a_503_that_says_nothing_was_changed():
    conflict = api_exception(DataProductConflict("data product x already exists"))
    failed = api_exception(CreationFailed("commit", "disk full"))

    assert (conflict.status_code, str(conflict.detail)) == (409, "data product x already exists")
    assert (failed.status_code, str(failed.detail)) == (503, "commit: disk full; nothing was changed")


def test_a_refusal_is_a_403():
    assert isinstance(api_exception(PermissionDenied("only staff")), exceptions.PermissionDenied)


def test_a_new_service_error_needs_only_its_status():
    class Gone(ServiceError):
        status = 410

    assert api_exception(Gone("released versions are immutable")).status_code == 410


def test_the_catalogs_refusals_carry_their_status_too():
    from catalog.services import CatalogConflict, RefreshThrottled

    assert error_status(CatalogConflict("entity is live")) == 409
    assert error_status(RefreshThrottled("too many refreshes", retry_after=30)) == 429
    assert api_exception(CatalogConflict("entity is live")).status_code == 409
