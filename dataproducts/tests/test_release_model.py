"""Releases as rows (PRODUCT §4.4): a durable identity per data product that outlives its projection, and stable
releases that nothing changes: not ``full_clean()``, not an UPDATE or DELETE in raw SQL."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from catalog.services import location_unregister
from core.models import AuditEvent
from core.services import OPERATOR
from dataproducts.models import DataProduct, DataProductIdentity, Release

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


def release(identity: DataProductIdentity, version: str = "0.1.0", **fields) -> Release:
    stable = "SNAPSHOT" not in version
    numbers = [int(part) for part in version.replace("-SNAPSHOT-", ".").split(".")]
    return Release.objects.create(
        product=identity,
        version=version,
        kind="stable" if stable else "draft",
        major=numbers[0],
        minor=numbers[1],
        patch=numbers[2] if stable else None,
        snapshot=None if stable else numbers[2],
        descriptors={"development": {"id": identity.dp_id}},
        commit="0" * 40,
        **fields,
    )


@pytest.fixture
def identity(build_dp, alice):
    data_product = build_dp(alice)
    return DataProductIdentity.objects.get(dp_id=data_product.dp_id)


def test_projecting_a_data_product_gives_it_one_identity(build_dp, alice):
    data_product = build_dp(alice)

    identity = DataProductIdentity.objects.get(dp_id=data_product.dp_id)
    assert identity.entity_name == data_product.name == "finance.cashflow.0"
    assert DataProductIdentity.objects.count() == 1


def test_unregistering_a_product_keeps_its_identity_and_releases(identity, alice):
    release(identity)
    location = DataProduct.objects.get().entity.location

    location_unregister(location=location, actor=OPERATOR)

    assert not DataProduct.objects.exists()
    assert Release.objects.get().product == DataProductIdentity.objects.get(dp_id=identity.dp_id)


def test_a_stable_release_refuses_changes_through_model_validation(identity):
    stable = release(identity)
    stable.notes = "rewritten"

    with pytest.raises(ValidationError, match="stable release cannot be changed"):
        stable.full_clean()


def test_a_draft_may_be_validated_and_saved_again(identity):
    draft = release(identity, "0.1-SNAPSHOT-1")
    draft.notes = "first try"
    draft.full_clean()
    draft.save()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE dataproducts_release SET notes = 'x' WHERE id = %s", "DELETE FROM dataproducts_release WHERE id = %s"],
)
def test_raw_sql_cannot_change_or_delete_a_stable_release(identity, sql):
    stable = release(identity)

    refused = pytest.raises(IntegrityError, match="stable release cannot be changed or deleted")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [stable.pk])

    assert Release.objects.get(pk=stable.pk).notes == ""


def test_raw_sql_may_change_a_draft(identity):
    draft = release(identity, "0.1-SNAPSHOT-1")

    with connection.cursor() as cursor:
        cursor.execute("UPDATE dataproducts_release SET notes = 'x' WHERE id = %s", [draft.pk])

    assert Release.objects.get(pk=draft.pk).notes == "x"


def test_one_version_per_product_and_numbers_that_fit_the_kind(identity):
    release(identity)
    with pytest.raises(IntegrityError), transaction.atomic():
        release(identity)
    with pytest.raises(IntegrityError), transaction.atomic():
        Release.objects.create(product=identity, version="0.2.0", kind="stable", major=0, minor=2, commit="0")


def test_the_admin_refuses_to_change_a_stable_release_and_says_why(client, platform_user, identity):
    stable = release(identity)
    draft = release(identity, "0.2-SNAPSHOT-1")
    client.force_login(platform_user)

    refused = client.post(f"/admin/dataproducts/release/{stable.pk}/change/", {"notes": "rewritten"})
    amended = client.post(f"/admin/dataproducts/release/{draft.pk}/change/", {"notes": "first try"})

    assert refused.status_code == 200
    assert "a stable release cannot be changed" in refused.content.decode()
    assert Release.objects.get(pk=stable.pk).notes == ""
    assert amended.status_code == 302 and Release.objects.get(pk=draft.pk).notes == "first try"
    assert AuditEvent.objects.filter(action="release.notes", object_id=str(draft.pk)).count() == 1
    assert client.get("/admin/dataproducts/release/add/").status_code == 403


def test_deleting_the_author_of_a_stable_release_keeps_it_with_the_authors_name(identity, bob):
    stable = release(identity, created_by=bob, created_by_name="bob")

    bob.delete()

    kept = Release.objects.get(pk=stable.pk)
    assert (kept.created_by, kept.created_by_name, kept.notes) == (None, "bob", "")


def test_raw_sql_cannot_change_a_stable_release_together_with_its_author(identity, bob):
    stable = release(identity, created_by=bob)

    refused = pytest.raises(IntegrityError, match="stable release cannot be changed or deleted")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE dataproducts_release SET created_by_id = NULL, notes = 'x' WHERE id = %s", [stable.pk])
