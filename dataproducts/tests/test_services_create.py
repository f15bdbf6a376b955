"""Creating data products through ``dataproduct_create`` on real Git: the repository, the commit, the catalog
entity and the projection; conflicts, authorization, and the undo of every step."""

from __future__ import annotations

import git
import pytest
from django.core.exceptions import PermissionDenied

from catalog.models import Entity, Location
from core.models import AuditEvent
from core.yaml import load_all
from dataproducts import selectors, services
from dataproducts.exceptions import CreationFailed, DataProductConflict, TemplateError, ValuesInvalid
from dataproducts.models import DataProduct, DataProductReservation
from dataproducts.services import creation
from dataproducts.tests.conftest import dp_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database:
    the concurrent creations, which must commit, are in test_services_create_concurrency), for every test alike."""
    return templates_location_shared


def _bare(settings, domain="finance", name="cashflow"):
    return settings.MESHFORGE_GIT_ROOT / domain / f"{name}.git"


def test_creating_a_data_product_commits_the_rendered_files_once_as_the_user(create_dp, alice, settings):
    data_product = create_dp(alice)

    repo = git.Repo(_bare(settings))
    commits = list(repo.iter_commits("main"))
    assert len(commits) == 1
    assert commits[0].author.name == alice.get_full_name() or alice.username
    assert commits[0].author.email == alice.email or commits[0].author.email == f"{alice.username}@meshforge.invalid"
    files = {blob.path for blob in commits[0].tree.traverse() if blob.type == "blob"}
    assert {
        "catalog-info.yaml",
        "environments/development/configurations.yaml",
        "environments/qa/configurations.yaml",
        "environments/production/configurations.yaml",
    } <= files
    assert data_product.name == "finance.cashflow.0"
    assert data_product.dp_id == "urn:dmb:dp:finance:cashflow:0"


def test_the_catalog_serves_the_new_system_at_version_0_0_0(create_dp, alice):
    create_dp(alice)

    entity = Entity.objects.get(ref="system:default/finance.cashflow.0")
    assert entity.spec["type"] == "dataproduct"
    assert entity.spec["mesh"]["version"] == "0.0.0"
    assert entity.spec["owner"] == "group:finance"
    assert entity.errors == [] and entity.dp_errors == []
    data_product = DataProduct.objects.get(entity=entity)
    assert (data_product.version, data_product.owner_team, data_product.maturity) == ("0.0.0", "finance", "Strategic")
    assert data_product.repository_url.startswith("file://") and data_product.repository_url.endswith(
        "cashflow.git#main"
    )


def test_creation_records_the_reservation_and_an_audit_event(create_dp, alice):
    data_product = create_dp(alice)

    reservation = DataProductReservation.objects.get(dp_id=data_product.dp_id)
    assert reservation.state == "created" and reservation.created_by == alice
    event = AuditEvent.objects.get(action="dataproduct.create")
    assert event.actor == alice and event.after["id"] == data_product.dp_id


def test_the_location_belongs_to_the_creator(create_dp, alice):
    data_product = create_dp(alice)

    assert data_product.entity.location.registered_by == alice
    assert data_product.entity.location.trusted is False


def test_creating_the_same_data_product_twice_is_a_conflict(create_dp, alice):
    create_dp(alice)

    with pytest.raises(DataProductConflict, match="urn:dmb:dp:finance:cashflow:0"):
        create_dp(alice, title="Again")
    assert DataProduct.objects.count() == 1


def test_a_member_of_another_team_cannot_create_under_finance(create_dp, bob, settings):
    with pytest.raises(PermissionDenied):
        create_dp(bob)
    assert not _bare(settings).exists()
    assert not DataProductReservation.objects.exists()


def test_staff_may_create_for_any_team(create_dp, platform_user):
    data_product = create_dp(platform_user, domain="domain:marketing", owner="group:marketing")
    assert data_product.owner_team == "marketing"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "Not A Slug"}, "name"),
        ({"name": "x"}, "name"),
        ({"domain": "domain:nowhere"}, "domain"),
        ({"owner": "user:alice"}, "owner"),
        ({"maturity": "Eternal"}, "maturity"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_values_are_refused_naming_the_field_and_change_nothing(create_dp, alice, settings, overrides, field):
    with pytest.raises(ValuesInvalid) as caught:
        create_dp(alice, **overrides)
    assert field in caught.value.errors
    assert not (settings.MESHFORGE_GIT_ROOT / "finance").exists()
    assert not DataProductReservation.objects.exists()
    assert not Location.objects.filter(target__contains="cashflow").exists()


HOSTILE = [
    "key: value",
    "quote \" and ' quote",
    "line one\nline two",
    "{{ 7*7 }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "# not a comment",
    "--- not a document",
    "unicode ✓ café 🚀 \u2028 separator",
    "x" * 5_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_ends_up_literally_as_data_in_the_committed_yaml(create_dp, alice, settings, text):
    data_product = create_dp(alice, title=text[:100], description=text, informationSLA=text[:100])

    repo = git.Repo(_bare(settings))
    committed = (repo.commit("main").tree / "catalog-info.yaml").data_stream.read().decode()
    system = load_all(committed)[0]
    assert system["metadata"]["description"] == text
    assert system["metadata"]["title"] == text[:100]
    assert system["spec"]["mesh"]["informationSLA"] == text[:100]
    if "7*7" in text:
        assert "49" not in committed
    assert data_product.entity.metadata["description"] == text


def test_a_10_kb_description_is_refused_with_a_field_error(create_dp, alice):
    with pytest.raises(ValuesInvalid) as caught:
        create_dp(alice, description="x" * 10_000)
    assert list(caught.value.errors) == ["description"]
    assert not DataProductReservation.objects.exists()


# --- undo of each step ----------------------------------------------------------------------------------


def _nothing_left(settings) -> None:
    assert not _bare(settings).exists()
    assert not Location.objects.filter(target__contains="cashflow").exists()
    assert not Entity.objects.filter(name__startswith="finance.cashflow").exists()
    assert not DataProduct.objects.exists()
    assert not DataProductReservation.objects.exists()


@pytest.mark.parametrize("step", ["repository", "commit", "location", "processing"])
def test_a_failure_at_each_step_is_undone_and_a_retry_succeeds(create_dp, alice, settings, monkeypatch, step):
    original = dict(creation.CREATION_STEPS)

    def failing(draft, actor):
        original[step](draft, actor)  # the step does its work, then the next thing breaks
        raise OSError(f"injected failure after {step}")

    monkeypatch.setattr(
        creation, "CREATION_STEPS", [(name, failing if name == step else run) for name, run in original.items()]
    )
    with pytest.raises(CreationFailed) as caught:
        create_dp(alice)
    assert caught.value.step == step
    assert "injected failure" in str(caught.value)
    _nothing_left(settings)

    monkeypatch.setattr(creation, "CREATION_STEPS", list(original.items()))
    assert create_dp(alice).name == "finance.cashflow.0"


def test_a_failure_while_rendering_leaves_nothing_and_a_retry_succeeds(create_dp, alice, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise TemplateError("template dataproduct: catalog-info.yaml does not render valid YAML: injected")

    monkeypatch.setattr(creation, "files_render", broken)
    with pytest.raises(TemplateError, match="template dataproduct"):
        create_dp(alice)
    _nothing_left(settings)

    monkeypatch.undo()
    assert create_dp(alice).name == "finance.cashflow.0"


def test_a_catalog_that_produces_no_entity_fails_at_processing_and_is_undone(create_dp, alice, settings, monkeypatch):
    monkeypatch.setattr(creation, "components_location", lambda name: "---\nkind: [broken\n")
    with pytest.raises((CreationFailed, TemplateError)):
        create_dp(alice)
    _nothing_left(settings)


def test_the_preview_renders_the_files_without_writing_anything(builder, alice, settings):
    template = selectors.template_get(ref="template:dataproduct")
    plan = services.dataproduct_preview(template=template, values=dp_values(), actor=alice)

    paths = [path for path, _text in plan.files]
    assert "catalog-info.yaml" in paths and "environments/qa/configurations.yaml" in paths
    assert plan.entity_name == "finance.cashflow.0"
    assert not (settings.MESHFORGE_GIT_ROOT / "finance").exists()
    assert not DataProductReservation.objects.exists()


@pytest.mark.parametrize("skeleton", ["invalid_yaml", "with_extensions", "raw_user_value"])
def test_a_broken_template_fails_creation_cleanly_naming_the_template(builder, alice, settings, tmp_path, skeleton):
    import shutil
    from pathlib import Path

    from catalog.demo import folder_publish
    from catalog.services import location_register
    from core.services import OPERATOR
    from dataproducts.demo import BUILTIN_TEMPLATES

    source = tmp_path / "broken-src"
    shutil.copytree(BUILTIN_TEMPLATES / "dataproduct", source / "broken")
    shutil.rmtree(source / "broken" / "skeleton")
    shutil.copytree(Path(__file__).parent / "data" / "skeletons" / skeleton, source / "broken" / "skeleton")
    (source / "broken" / "edit-template.yaml").unlink()
    template_file = source / "broken" / "template.yaml"
    template_file.write_text(
        template_file.read_text()
        .replace("name: dataproduct\n", "name: broken-dp\n", 1)
        .replace("dataproduct-template:0.0.0", "broken-template:0.0.0")
    )
    bare = tmp_path / "git" / "platform" / "broken.git"
    folder_publish(source, bare, message="A broken template")
    location_register(type="git", target=f"file://{bare}#main:broken/template.yaml", actor=OPERATOR, trusted=True)
    template = selectors.template_get(ref="template:broken-dp")

    with pytest.raises(TemplateError, match="broken-dp"):
        services.dataproduct_create(template=template, values=dp_values(), actor=alice)
    _nothing_left(settings)
