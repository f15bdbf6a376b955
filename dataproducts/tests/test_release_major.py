"""A new major version of a data product (PRODUCT §4.4), on real Git: ``release/<N+1>`` made from the head of the
product's branch in one commit with the ids moved to ``…:<N+1>``, registered as a product of its own beside the old
one; edits of each major go to its own branch; a second bump is a 409 and a failed step leaves nothing."""

from __future__ import annotations

import git
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from catalog.models import Location
from core.yaml import load, load_all
from dataproducts import selectors, services
from dataproducts.choices import ReservationState
from dataproducts.exceptions import CreationFailed, DataProductConflict
from dataproducts.gitops.patch import entity_file_patch
from dataproducts.gitops.provider import author_of, git_provider
from dataproducts.gitops.roundtrip import path_set
from dataproducts.models import DataProduct, DataProductIdentity, DataProductReservation, Release
from dataproducts.services import releases
from dataproducts.tests.conftest import dataproduct_create_shared, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    return templates_location_shared


@pytest.fixture(scope="module")
def shared_product(shared_git):
    """finance.cashflow.0 with two output ports, the second depending on the first."""
    return dataproduct_create_shared(
        shared_git,
        components=[
            port_values(),
            port_values(name="monthly", title="Monthly", dependsOn=["urn:dmb:cmp:finance:cashflow:0:daily-balances"]),
        ],
    )


@pytest.fixture
def cashflow(shared_product):
    return selectors.dataproduct_get(name=shared_product)


def _repo(settings) -> git.Repo:
    return git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git")


def _file(repo: git.Repo, path: str, rev: str) -> str:
    return (repo.commit(rev).tree / path).data_stream.read().decode()


def _documents(repo: git.Repo, path: str, rev: str) -> dict:
    return {document["kind"]: document for document in load_all(_file(repo, path, rev))}


def test_a_new_major_is_a_branch_with_the_ids_moved_and_a_product_beside_the_old_one(cashflow, alice, settings):
    repo = _repo(settings)
    main = repo.commit("main").hexsha

    made = services.release_major_create(data_product=cashflow, actor=alice)

    # one commit on release/1, made on the head of main, which stays as it was
    branch = repo.commit("release/1")
    assert [parent.hexsha for parent in branch.parents] == [main] and repo.commit("main").hexsha == main
    root = _documents(repo, "catalog-info.yaml", "release/1")
    assert root["System"]["metadata"]["name"] == "finance.cashflow.1"
    assert root["System"]["spec"]["mesh"]["fullyQualifiedName"] == "Finance - Cash flow - v1"
    assert root["System"]["spec"]["mesh"]["version"] == "1.0.0"
    assert root["Location"]["metadata"]["name"] == "finance.cashflow.1.components"
    monthly = load(_file(repo, "components/monthly/catalog-info.yaml", "release/1"))
    assert monthly["metadata"]["name"] == "finance.cashflow.1.monthly"
    assert monthly["spec"]["system"] == "system:finance.cashflow.1"
    assert monthly["spec"]["mesh"]["dependsOn"] == ["urn:dmb:cmp:finance:cashflow:1:daily-balances"]
    assert monthly["spec"]["mesh"]["fullyQualifiedName"] == "Finance - cashflow - v1 - Monthly"
    assert monthly["spec"]["mesh"]["version"] == "1.0.0"
    assert monthly["spec"]["mesh"]["specific"]["schema"] == "finance_cashflow_1"
    # rewritten in place: comments, quotes and layout kept (the header's ids moved with the rest)
    text = _file(repo, "catalog-info.yaml", "release/1")
    assert text.startswith("# The data product finance.cashflow.1 (urn:dmb:dp:finance:cashflow:1), created with")
    assert '  name: "finance.cashflow.1"\n' in text and "environments/<env>/configurations.yaml" in text
    assert sorted(branch.stats.files) == [
        "catalog-info.yaml",
        "components/daily-balances/catalog-info.yaml",
        "components/monthly/catalog-info.yaml",
    ]

    # a data product of its own, beside the old one, read from the branch
    assert (made.name, made.dp_id, made.major, made.version) == (
        "finance.cashflow.1",
        "urn:dmb:dp:finance:cashflow:1",
        1,
        "1.0.0",
    )
    assert made.repository_url.endswith("cashflow.git#release/1")
    assert sorted(c.component_id for c in made.components.all()) == [
        "urn:dmb:cmp:finance:cashflow:1:daily-balances",
        "urn:dmb:cmp:finance:cashflow:1:monthly",
    ]
    old = selectors.dataproduct_get(name="finance.cashflow.0")
    assert old.repository_url.endswith("cashflow.git#main") and not old.has_errors and not made.has_errors
    assert sorted(c.component_id for c in old.components.all()) == [
        "urn:dmb:cmp:finance:cashflow:0:daily-balances",
        "urn:dmb:cmp:finance:cashflow:0:monthly",
    ]
    reservation = DataProductReservation.objects.get(dp_id=made.dp_id)
    assert reservation.state == ReservationState.CREATED
    location = made.entity.location
    assert location.target.endswith("cashflow.git#release/1") and location.is_root
    assert location.home_of == ["system:default/finance.cashflow.1"]


def test_each_major_is_edited_and_released_on_its_own_branch(cashflow, alice, settings):
    made = services.release_major_create(data_product=cashflow, actor=alice)
    repo = _repo(settings)

    for name, words in [(made.name, "The new major"), (cashflow.name, "The old major")]:
        entity = selectors.dataproduct_get(name=name).entity
        entity_file_patch(
            entity=entity,
            patch=lambda document, words=words: path_set(document, "metadata.description", words),
            actor=alice,
            message=f"Describe {name}",
            audit_action="dataproduct.edit",
        )

    assert repo.commit("release/1").message == "Describe finance.cashflow.1"
    assert repo.commit("main").message == "Describe finance.cashflow.0"
    assert load_all(_file(repo, "catalog-info.yaml", "release/1"))[0]["metadata"]["description"] == "The new major"
    assert selectors.dataproduct_get(name=made.name).description == "The new major"
    assert selectors.dataproduct_get(name=cashflow.name).description == "The old major"

    draft = services.release_draft_create(data_product=selectors.dataproduct_get(name=made.name), actor=alice)
    assert (draft.version, draft.product.dp_id) == ("1.0-SNAPSHOT-1", made.dp_id)
    assert repo.commit("release/1").hexsha == draft.commit
    assert "releases/1.0-SNAPSHOT-1/descriptor-development.yaml" in repo.commit("release/1").stats.files


def test_a_second_major_n_plus_1_is_a_409_and_changes_nothing(cashflow, alice, settings):
    services.release_major_create(data_product=cashflow, actor=alice)
    head = _repo(settings).commit("release/1").hexsha

    with pytest.raises(DataProductConflict, match="urn:dmb:dp:finance:cashflow:1 already exists") as refused:
        services.release_major_create(data_product=selectors.dataproduct_get(name=cashflow.name), actor=alice)

    assert refused.value.status == 409
    assert _repo(settings).commit("release/1").hexsha == head
    assert DataProductReservation.objects.filter(dp_id="urn:dmb:dp:finance:cashflow:1").count() == 1


def test_a_branch_of_that_name_already_there_is_a_409_and_nothing_is_made(cashflow, alice, settings):
    repo = _repo(settings)
    repo.create_head("release/1", repo.commit("main"))

    with pytest.raises(DataProductConflict, match="branch release/1 already exists"):
        services.release_major_create(data_product=cashflow, actor=alice)

    assert repo.commit("release/1").hexsha == repo.commit("main").hexsha
    assert not DataProductReservation.objects.filter(dp_id="urn:dmb:dp:finance:cashflow:1").exists()
    assert not DataProduct.objects.filter(major=1).exists()


@pytest.mark.parametrize("step", ["location", "processing"])
def test_a_failing_step_undoes_the_branch_the_location_and_the_reservation(
    cashflow, alice, settings, monkeypatch, step
):
    if step == "location":
        monkeypatch.setattr(releases, "location_register", lambda **kwargs: (_ for _ in ()).throw(OSError("disk full")))
    else:
        get = selectors.dataproduct_get
        monkeypatch.setattr(
            selectors, "dataproduct_get", lambda *, name: None if name.endswith(".1") else get(name=name)
        )

    with pytest.raises(CreationFailed, match=f"{step}: "):
        services.release_major_create(data_product=cashflow, actor=alice)

    assert "release/1" not in [head.name for head in _repo(settings).heads]
    assert not Location.objects.filter(target__contains="#release/1").exists()
    assert not DataProductReservation.objects.filter(dp_id="urn:dmb:dp:finance:cashflow:1").exists()
    assert not DataProduct.objects.filter(major=1).exists()


def test_a_commit_landing_meanwhile_refuses_the_major_and_leaves_nothing(cashflow, alice, settings, monkeypatch):
    files = releases._major_files

    def read_then_commit(*args):
        made = files(*args)
        git_provider().commit(
            url=cashflow.repository_url.partition("#")[0],
            files={"README.md": "late\n"},
            message="Late",
            author=author_of(alice),
        )
        return made

    monkeypatch.setattr(releases, "_major_files", read_then_commit)

    with pytest.raises(services.ReleaseConflict, match="changed in Git while its major was made"):
        services.release_major_create(data_product=cashflow, actor=alice)

    assert "release/1" not in [head.name for head in _repo(settings).heads]
    assert not DataProductReservation.objects.filter(dp_id="urn:dmb:dp:finance:cashflow:1").exists()


def test_only_the_owners_may_make_a_new_major(cashflow, bob, settings):
    with pytest.raises(PermissionDenied, match="only members of finance"):
        services.release_major_create(data_product=cashflow, actor=bob)
    assert "release/1" not in [head.name for head in _repo(settings).heads]


# --- the Releases tab, the API and the command ---------------------------------------------------------------


def _breaking_draft(cashflow) -> None:
    """A stable 0.0.0 with the output port daily-balances and a draft without it: promotion is refused."""
    identity = DataProductIdentity.objects.get(dp_id=cashflow.dp_id)
    port = {"id": "urn:dmb:cmp:finance:cashflow:0:daily-balances", "kind": "outputport"}
    common = {"product": identity, "major": 0, "commit": "0" * 40}
    Release.objects.create(
        **common, version="0.0.0", kind="stable", minor=0, patch=0, descriptors={"qa": {"components": [port]}}
    )
    Release.objects.create(
        **common, version="0.1-SNAPSHOT-1", kind="draft", minor=1, snapshot=1, descriptors={"qa": {}}
    )


def test_a_refused_promotion_offers_the_new_major_which_opens_the_new_product(client, alice, bob, cashflow):
    _breaking_draft(cashflow)
    client.force_login(alice)
    refused = client.post(reverse("dp:release_promote", args=[cashflow.name]), {"version": "0.1.0"})
    page = refused.content.decode()
    action = reverse("dp:release_major_create", args=[cashflow.name])
    assert refused.status_code == 400 and f'action="{action}"' in page and "Create major version 1" in page

    response = client.post(action, follow=True)

    assert response.redirect_chain[-1][0] == "/dp/finance.cashflow.1/"
    page = response.content.decode()
    assert "Made major version 1 of Cash flow: finance.cashflow.1, on branch release/1" in page

    client.force_login(bob)
    assert "Create major version" not in client.get(f"/dp/{cashflow.name}/?tab=releases").content.decode()
    assert client.post(action).status_code == 403


def test_the_tab_shows_why_a_new_major_was_not_made(client, alice, cashflow):
    _breaking_draft(cashflow)
    services.release_major_create(data_product=cashflow, actor=alice)
    client.force_login(alice)

    response = client.post(reverse("dp:release_major_create", args=[cashflow.name]))

    page = response.content.decode()
    assert response.status_code == 409
    errors = page[page.index('id="release-major-errors"') :]
    assert "Major version 1 was not made" in errors and "urn:dmb:dp:finance:cashflow:1 already exists" in errors


def test_the_api_makes_the_new_major_then_answers_409(api_client, alice, bob, cashflow):
    url = f"/api/dataproducts/data-products/{cashflow.name}/releases/major/"
    api_client.force_authenticate(bob)
    assert api_client.post(url).status_code == 403
    api_client.force_authenticate(alice)

    made = api_client.post(url)

    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["name"], body["id"]) == ("finance.cashflow.1", "urn:dmb:dp:finance:cashflow:1")
    assert sorted(c["id"] for c in body["components"]) == [
        "urn:dmb:cmp:finance:cashflow:1:daily-balances",
        "urn:dmb:cmp:finance:cashflow:1:monthly",
    ]
    again = api_client.post(url)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]


def test_the_command_makes_the_new_major(alice, cashflow, capsys):
    call_command("release", cashflow.name, "--major", "--user", "alice")

    assert "Made finance.cashflow.1 (urn:dmb:dp:finance:cashflow:1), major version 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already exists"):
        call_command("release", cashflow.name, "--major", "--user", "alice")
    with pytest.raises(CommandError, match="--version and --from go with --promote"):
        call_command("release", cashflow.name, "--major", "--version", "1.0.0", "--user", "alice")
