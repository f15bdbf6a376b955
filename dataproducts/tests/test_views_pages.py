"""The Builder's pages through the Django test client, on data products read by the catalog (the projections
come from catalog processing): "My data products", the data product page and its tabs, component pages, removing
a component, the domains, and who may write. Pages that only read a product read it from a trusted file location
(milliseconds); what shows or changes Git (commits, the clone URL, removing, writing domains, refusals that must
leave a repository as it was) reads it from a real local Git repository."""

from __future__ import annotations

import copy
from pathlib import Path

import git
import pytest
import yaml
from django.conf import settings
from django.urls import reverse

from catalog.models import Entity, Location
from catalog.refs import parse_dp_entity_name
from catalog.services import location_register
from core.services import OPERATOR
from core.testing.git import GitRepo
from core.yaml import load
from dataproducts.models import Component, DataProduct, Domain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_templates")]

HTMX = {"HTTP_HX_REQUEST": "true"}
FIXTURES = Path(settings.BASE_DIR) / "tests" / "data" / "witboost"
DP_USE_CASE = "urn:dmb:utm:dataproduct-template:0.0.0"
PORT_USE_CASE = "urn:dmb:utm:postgres-outputport-template:0.0.0"
WITBOOST = "healthcare.vaccinations.0"
STORAGE, PORT = "snowflake-storage", "snowflake-output-port"


# --- data: catalog-info.yaml files in real Git repositories -------------------------------------------------


def document(kind: str, name: str, spec: dict, **metadata) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


def yaml_file(*documents: dict) -> str:
    return "---\n".join(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True) for doc in documents)


def system_document(
    name: str,
    *,
    owner: str = "group:finance",
    title: str = "Cash flow",
    description: str = "Operating cash flows",
    maturity: str = "Strategic",
    tags: tuple[str, ...] = ("finance",),
) -> dict:
    identity = parse_dp_entity_name(name)
    mesh = {
        "name": title,
        "fullyQualifiedName": f"{identity.domain} - {title}",
        "description": description,
        "version": f"{identity.major}.1.0",
        "dataProductOwner": "user:alice",
        "devGroup": owner,
        "maturity": maturity,
        "useCaseTemplateId": DP_USE_CASE,
        "tags": [],
        "specific": {},
    }
    spec = {"type": "dataproduct", "lifecycle": "experimental", "owner": owner, "domain": f"domain:{identity.domain}"}
    return document("System", name, spec | {"mesh": mesh}, title=title, description=description, tags=list(tags))


def component_document(
    dp_name: str,
    slug: str,
    *,
    kind: str = "outputport",
    depends_on: tuple[str, ...] = (),
    owner: str = "group:finance",
    title: str | None = None,
    use_case: str = PORT_USE_CASE,
) -> dict:
    identity = parse_dp_entity_name(dp_name)
    prefix = f"urn:dmb:cmp:{identity.domain}:{identity.name}:{identity.major}"
    mesh = {
        "name": title or slug,
        "fullyQualifiedName": title or slug,
        "kind": kind,
        "version": f"{identity.major}.1.0",
        "infrastructureTemplateId": "urn:dmb:itm:postgres:1",
        "useCaseTemplateId": use_case,
        "dependsOn": [f"{prefix}:{target}" for target in depends_on],
        "tags": [],
        "specific": {},
    }
    if kind == "outputport":
        mesh["dataContract"] = {"schema": [{"name": "day", "dataType": "DATE", "constraint": "PRIMARY_KEY"}]}
    spec = {"type": kind, "lifecycle": "experimental", "owner": owner, "system": f"system:{dp_name}", "mesh": mesh}
    return document("Component", f"{dp_name}.{slug}", spec, title=title or slug)


def witboost_dataproduct(*, owner: str = "group:finance") -> tuple[dict, list[dict]]:
    """The System and Components of the real descriptor in the shared Witboost fixtures, as catalog entities
    (``spec.mesh`` holds the descriptor's fields; the derived ones that would disagree are left out)."""
    text = (FIXTURES / "scaffold-descriptor_output_port_valid.yaml").read_text()
    descriptor = load(text, source="scaffold-descriptor_output_port_valid.yaml")["dataProduct"]
    mesh = {key: value for key, value in descriptor.items() if key not in ("components", "environment", "ownerGroup")}
    identity = parse_dp_entity_name(f"{descriptor['domain']}.vaccinations.0")
    spec = {"type": "dataproduct", "lifecycle": "experimental", "owner": owner, "domain": f"domain:{identity.domain}"}
    system = document(
        "System", identity.system_name, spec | {"mesh": mesh}, title=mesh["name"], description=mesh["description"]
    )
    components = []
    for component in descriptor["components"]:
        slug = component["id"].rsplit(":", 1)[1]
        component_spec = {
            "type": component["kind"],
            "lifecycle": "experimental",
            "owner": owner,
            "system": f"system:{identity.system_name}",
            "mesh": copy.deepcopy(component),
        }
        components.append(
            document(
                "Component",
                f"{identity.system_name}.{slug}",
                component_spec,
                title=component["name"],
                description=component["description"],
            )
        )
    return system, components


def dataproduct_files(system: dict, components: list[dict]) -> dict[str, str]:
    """The layout the Builder writes: the System and a Location listing one folder per component."""
    name = system["metadata"]["name"]
    slugs = [component["metadata"]["name"].rsplit(".", 1)[1] for component in components]
    targets = [f"./components/{slug}/catalog-info.yaml" for slug in slugs]
    files = {"catalog-info.yaml": yaml_file(system, document("Location", f"{name}.components", {"targets": targets}))}
    for slug, component in zip(slugs, components, strict=True):
        files[f"components/{slug}/catalog-info.yaml"] = yaml_file(component)
    return files


def file_publish(root: Path, system: dict, components: list[dict] = ()):
    """Write the files ``publish`` commits into a folder under ``root`` and register it as a trusted file
    location: the same entities and projections without Git, for pages that only read. The location."""
    folder = root / system["metadata"]["name"]
    for path, text in dataproduct_files(system, list(components)).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    result = location_register(type="file", target=str(folder / "catalog-info.yaml"), actor=OPERATOR, trusted=True)
    assert not result.errors, result.errors
    return result.location


@pytest.fixture
def publish_file(catalog_files):
    """``publish_file(system, components)``: :func:`file_publish` into this test's folder."""
    return lambda system, components=(): file_publish(catalog_files, system, components)


@pytest.fixture(scope="module")
def shared_products(shared_catalog):
    """The module's file-located products, read by many tests and changed by none: the Witboost fixture's data
    product (a storage area and an output port that depends on it, owned by finance) and a marketing data product
    with no components. Their locations' ids."""
    system, components = witboost_dataproduct()
    campaigns = system_document(
        "marketing.campaigns.0", owner="group:marketing", title="Campaigns", maturity="Tactical"
    )
    return {
        "vaccinations": file_publish(shared_catalog["root"], system, components).pk,
        "campaigns": file_publish(shared_catalog["root"], campaigns).pk,
    }


@pytest.fixture
def vaccinations(db, shared_products):
    """The Witboost fixture's data product, read from a file (see ``shared_products``)."""
    return Location.objects.get(pk=shared_products["vaccinations"])


@pytest.fixture
def campaigns(db, shared_products):
    """A marketing data product with no components (see ``shared_products``)."""
    return Location.objects.get(pk=shared_products["campaigns"])


def signed_in(client, user):
    client.force_login(user)
    return client


def dp_url(name: str = WITBOOST, tab: str | None = None) -> str:
    url = reverse("dp:dataproduct_detail", args=[name])
    return f"{url}?tab={tab}" if tab else url


def component_url(slug: str, name: str = WITBOOST, action: str = "detail") -> str:
    return reverse(f"dp:component_{action}", args=[name, slug])


def listed(response) -> list[str]:
    return [data_product.name for data_product in response.context["page"].object_list]


# --- the data is what the pages show -------------------------------------------------------------------------


def test_the_witboost_fixture_becomes_a_data_product_without_errors(vaccinations):
    data_product = DataProduct.objects.get(name=WITBOOST)

    assert data_product.entity.all_errors == []
    assert (data_product.owner_team, data_product.maturity, data_product.version) == ("finance", "Tactical", "0.1.0")
    assert sorted(Component.objects.filter(data_product=data_product).values_list("slug", flat=True)) == [PORT, STORAGE]


# --- My data products ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [reverse("dataproducts:home"), "/dp/finance.cashflow.0/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_my_data_products_lists_my_teams_products_with_their_status(client, alice, vaccinations, campaigns):
    response = signed_in(client, alice).get(reverse("dataproducts:home"))

    content = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == [WITBOOST]
    assert f'href="{dp_url()}"' in content and "Vaccinations" in content
    assert '<span class="badge badge-maturity">tactical</span>' in content
    assert '<span class="badge badge-lifecycle">experimental</span>' in content
    assert '<a class="button" href="/builder/templates/?type=dataproduct">New data product</a>' in content
    assert '<option value="true" selected>My teams\' data products</option>' in content


def test_all_data_products_shows_other_teams_products_too(client, alice, vaccinations, campaigns):
    response = signed_in(client, alice).get(reverse("dataproducts:home") + "?mine=")

    assert listed(response) == [WITBOOST, "marketing.campaigns.0"]
    assert '<option value="" selected>All data products</option>' in response.content.decode()


def test_staff_see_every_data_product_by_default(client, platform_user, vaccinations, campaigns):
    response = signed_in(client, platform_user).get(reverse("dataproducts:home"))
    assert listed(response) == [WITBOOST, "marketing.campaigns.0"]


def test_a_member_of_no_team_is_told_how_to_start(client, carol, vaccinations):
    content = signed_in(client, carol).get(reverse("dataproducts:home")).content.decode()
    assert "Your teams own no data products yet." in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("domain=healthcare", [WITBOOST]),
        ("domain=marketing", ["marketing.campaigns.0"]),
        ("maturity=tactical", [WITBOOST, "marketing.campaigns.0"]),
        ("owner_team=marketing", ["marketing.campaigns.0"]),
        ("q=vaccin", [WITBOOST]),
        ("q=CAMPAIGNS", ["marketing.campaigns.0"]),
        ("has_errors=true", ["marketing.campaigns.0"]),
        ("has_errors=false", [WITBOOST]),
    ],
)
def test_the_filters_narrow_the_list(client, platform_user, vaccinations, campaigns, query, expected):
    Entity.objects.filter(name="marketing.campaigns.0").update(has_errors=True, errors=["broken"])
    DataProduct.objects.filter(name="marketing.campaigns.0").update(has_errors=True)

    response = signed_in(client, platform_user).get(f"{reverse('dataproducts:home')}?{query}")

    assert listed(response) == expected


def test_a_filter_value_that_cannot_be_read_is_refused_naming_the_filter(client, alice, vaccinations):
    response = signed_in(client, alice).get(reverse("dataproducts:home") + "?major=abc")

    assert response.status_code == 400
    assert "major: Enter a number." in response.content.decode()


def test_the_filter_options_come_from_the_products(client, platform_user, vaccinations, campaigns):
    content = signed_in(client, platform_user).get(reverse("dataproducts:home") + "?domain=marketing").content.decode()

    assert '<option value="healthcare">healthcare</option>' in content
    assert '<option value="marketing" selected>marketing</option>' in content
    assert '<option value="finance">finance</option>' in content  # an owner team


def test_typing_in_the_search_box_gets_only_the_results_fragment_of_the_same_url(client, alice, vaccinations):
    page = signed_in(client, alice).get(reverse("dataproducts:home"))
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page.content.decode()
    assert 'hx-push-url="true"' in page.content.decode()

    response = client.get(reverse("dataproducts:home") + "?q=vacc", **HTMX)

    content = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert '<div id="dp-results">' in content and "<html" not in content and "<h1>" not in content
    assert 'id="dp-count"' in content and 'hx-swap-oob="innerHTML"' in content and "1 data product" in content
    assert listed(response) == [WITBOOST]


# --- The data product page -----------------------------------------------------------------------------------


def test_the_overview_lists_the_catalog_errors_of_the_system_and_its_components(client, alice, vaccinations):
    Entity.objects.filter(name=WITBOOST).update(has_errors=True, errors=["spec.mesh.version: broken"])
    Entity.objects.filter(name=f"{WITBOOST}.{PORT}").update(has_errors=True, dp_errors=["spec.mesh.dependsOn[0]: x"])

    content = signed_in(client, alice).get(dp_url()).content.decode()

    assert "Catalog errors" in content
    assert "spec.mesh.version: broken" in content and "spec.mesh.dependsOn[0]: x" in content
    assert f'<a href="/catalog/entity/component/default/{WITBOOST}.{PORT}/">Component {PORT}</a>' in content


def test_an_unknown_data_product_is_a_404(client, alice, vaccinations):
    signed_in(client, alice)
    for url in [
        dp_url("finance.nothing.0"),
        reverse("dp:dataproduct_descriptor_download", args=["finance.nothing.0", "development"]),
        reverse("dp:dataproduct_edit", args=["finance.nothing.0"]),
        component_url("nothing"),
        component_url("nothing", action="edit"),
        component_url("nothing", action="remove"),
    ]:
        assert client.get(url).status_code == 404, url


def test_tabs_are_links_and_htmx_swaps_only_the_tabs_and_their_panel(client, alice, vaccinations):
    signed_in(client, alice)
    page = client.get(dp_url(tab="components")).content.decode()
    assert 'hx-target="#dp-tabs" hx-swap="outerHTML" hx-push-url="true"' in page
    assert f'<a href="{dp_url(tab="descriptor")}" hx-get="{dp_url(tab="descriptor")}">Descriptor</a>' in page

    response = client.get(dp_url(tab="descriptor"), **HTMX)

    content = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert content.lstrip().startswith('<div id="dp-tabs">')
    assert "<html" not in content and 'id="dp-title"' not in content
    assert f'hx-get="{dp_url(tab="descriptor")}" aria-current="page">Descriptor</a>' in content
    assert "dp-descriptor-yaml" in content


def test_an_unknown_tab_is_refused_naming_the_parameter(client, alice, vaccinations):
    response = signed_in(client, alice).get(dp_url(tab="secrets"))
    assert response.status_code == 400
    assert "tab: unknown tab &#x27;secrets&#x27;" in response.content.decode()


def test_the_components_tab_lists_each_component_and_draws_their_dependencies(client, alice, vaccinations):
    response = signed_in(client, alice).get(dp_url(tab="components"))

    content = response.content.decode()
    assert response.status_code == 200
    assert f'<a href="{component_url(PORT)}"><bdi>Snowflake Output Port</bdi></a>' in content
    assert f'<a href="{component_url(STORAGE)}"><bdi>Snowflake Storage</bdi></a>' in content
    assert "outputport" in content and "storage" in content
    # the output port depends on the storage: a link in the table, an arrow in the graph
    assert content.count(f'<a href="{component_url(STORAGE)}"><bdi>Snowflake Storage</bdi></a>') == 2
    assert '<svg class="dependency-graph"' in content
    assert f'<a class="graph-node" href="{component_url(PORT)}">' in content
    assert content.count('class="graph-edge"') == 1
    assert "<title>Snowflake Output Port depends on Snowflake Storage</title>" in content


def test_writers_get_an_add_button_per_component_template(client, alice, vaccinations, file_templates):
    content = signed_in(client, alice).get(dp_url(tab="components")).content.decode()

    for template in ["outputport", "workload", "storage"]:
        url = reverse("dp:component_create_wizard", args=[WITBOOST, f"template:default/{template}"])
        assert f'href="{url}"' in content, template
    assert reverse("dp:component_create_wizard", args=[WITBOOST, "template:default/dataproduct"]) not in content


def test_the_descriptor_tab_lists_each_problem_with_its_path(client, alice, publish_file):
    system = system_document("finance.cashflow.0")
    publish_file(system, [component_document("finance.cashflow.0", "port", depends_on=("missing",))])

    content = signed_in(client, alice).get(dp_url("finance.cashflow.0", tab="descriptor")).content.decode()

    assert '<span class="badge badge-error">invalid</span>' in content
    assert "components[0].dependsOn[0]" in content


def test_an_unknown_environment_is_refused_naming_the_parameter(client, alice, vaccinations):
    response = signed_in(client, alice).get(dp_url(tab="descriptor") + "&env=moon")
    assert response.status_code == 400
    assert "env: unknown environment &#x27;moon&#x27;; expected one of development, qa, production" in (
        response.content.decode()
    )


def test_the_descriptor_downloads_as_a_yaml_attachment(client, bob, vaccinations):
    url = reverse("dp:dataproduct_descriptor_download", args=[WITBOOST, "development"])

    response = signed_in(client, bob).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{WITBOOST}-development.yaml"'
    descriptor = load(response.content.decode(), source="download")
    assert descriptor["environment"] == "development" and len(descriptor["components"]) == 2
    missing = reverse("dp:dataproduct_descriptor_download", args=[WITBOOST, "moon"])
    assert client.get(missing).status_code == 404


# --- Component page ------------------------------------------------------------------------------------------


def test_the_component_page_shows_its_fields_contract_and_dependencies(client, alice, vaccinations):
    response = signed_in(client, alice).get(component_url(PORT))

    content = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="component-title"><bdi>Snowflake Output Port</bdi>' in content
    for text in [f"urn:dmb:cmp:healthcare:vaccinations:0:{PORT}", "urn:dmb:itm:snowflake-outputport-provisioner:0",
                 "urn:dmb:utm:snowflake-outputport-template:0.0.0", "Snowflake"]:  # fmt: skip
        assert text in content, text
    # the data contract of the real descriptor, one row per column, with its OpenMetadata tag
    assert '<td class="mono">location_key</td>' in content and '<td class="mono">TEXT(16777216)</td>' in content
    assert '<td class="mono">NUMBER(38, 0)</td>' in content
    assert '<span class="tag">PII</span>' in content
    assert "Can be used for production purposes test." in content
    assert f'<a href="{component_url(STORAGE)}"><bdi>Snowflake Storage</bdi></a>' in content
    assert 'href="/catalog/entity/component/default/' in content


def test_the_storage_page_shows_which_components_use_it(client, alice, vaccinations):
    content = signed_in(client, alice).get(component_url(STORAGE)).content.decode()
    assert f'<a href="{component_url(PORT)}"><bdi>Snowflake Output Port</bdi></a>' in content


def test_the_component_page_shows_its_catalog_errors(client, alice, vaccinations):
    Entity.objects.filter(name=f"{WITBOOST}.{PORT}").update(has_errors=True, errors=["spec.mesh.kind: wrong"])
    Component.objects.filter(slug=PORT).update(has_errors=True)

    content = signed_in(client, alice).get(component_url(PORT)).content.decode()

    assert "spec.mesh.kind: wrong" in content and '<span class="badge badge-error">error</span>' in content


# --- Who may write -------------------------------------------------------------------------------------------


def test_the_owner_team_sees_the_write_buttons(client, alice, vaccinations):
    signed_in(client, alice)
    assert f'href="{reverse("dp:dataproduct_edit", args=[WITBOOST])}"' in client.get(dp_url()).content.decode()
    content = client.get(component_url(PORT)).content.decode()
    assert f'href="{component_url(PORT, action="edit")}"' in content
    assert f'href="{component_url(PORT, action="remove")}"' in content


def test_another_team_sees_a_data_product_read_only(client, bob, vaccinations, file_templates):
    signed_in(client, bob)
    for url in [dp_url(), dp_url(tab="components"), dp_url(tab="descriptor"), component_url(PORT)]:
        response = client.get(url)
        content = response.content.decode()
        assert response.status_code == 200, url
        assert "/edit/" not in content and "/remove/" not in content and "/add/" not in content, url
        assert "Add a component" not in content, url


# --- Removing a component ------------------------------------------------------------------------------------


def test_the_removal_page_warns_about_components_that_depend_on_it(client, alice, vaccinations):
    content = signed_in(client, alice).get(component_url(STORAGE, action="remove")).content.decode()
    assert "1 component depends on it:" in content and "Snowflake Output Port" in content


# --- Domains -------------------------------------------------------------------------------------------------


def test_everyone_may_read_the_domains_with_their_owner_and_product_count(client, bob, file_domains, campaigns):
    response = signed_in(client, bob).get(reverse("dataproducts:domain_list"))

    content = response.content.decode()
    assert response.status_code == 200
    assert [domain.name for domain in response.context["domains"]] == ["finance", "marketing"]
    assert "group:default/marketing" in content
    assert [domain.dp_count for domain in response.context["domains"]] == [0, 1]
    assert "New domain" not in content and "/edit/" not in content


def test_staff_create_a_domain_through_git(client, platform_user, file_domains, settings):
    signed_in(client, platform_user)
    form = client.get(reverse("dataproducts:domain_create"))
    assert '<option value="group:finance">group:finance</option>' in form.content.decode()

    response = client.post(
        reverse("dataproducts:domain_create"),
        {
            "name": "risk",
            "title": "Risk",
            "description": "Credit risk",
            "owner_ref": "group:finance",
            "parent": "finance",
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("dataproducts:domain_list")
    domain = Domain.objects.get(name="risk")
    assert (domain.title, domain.owner_ref, domain.parent_name) == ("Risk", "group:default/finance", "finance")
    assert (settings.MESHFORGE_GIT_ROOT / "platform" / "domains.git").is_dir()
    listing = client.get(response["Location"]).content.decode()
    assert "Created the domain risk." in listing and "Credit risk" in listing


@pytest.mark.parametrize(
    ("name", "message"),
    [("Risk", "lower-case"), ("r", "2 to 63"), ("risk-", "not ending with a hyphen"), ("", "required")],
)
def test_a_bad_domain_name_is_explained_next_to_the_field(client, platform_user, file_domains, name, message):
    response = signed_in(client, platform_user).post(
        reverse("dataproducts:domain_create"), {"name": name, "owner_ref": "group:finance"}
    )

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["name"])
    assert 'class="field field-invalid"' in response.content.decode()
    assert not Domain.objects.filter(name=name).exists()


def test_creating_an_existing_domain_is_a_conflict(client, platform_user, file_domains):
    response = signed_in(client, platform_user).post(
        reverse("dataproducts:domain_create"), {"name": "finance", "owner_ref": "group:finance"}
    )

    assert response.status_code == 409
    assert "domain finance already exists" in response.content.decode()


@pytest.fixture
def risk(settings, platform_user, file_domains):
    """A domain in a repository Meshforge may write, a subdomain of finance (which comes from a file, where
    Meshforge may only read it)."""
    repo = GitRepo(settings.MESHFORGE_GIT_ROOT / "platform", "org")
    domain = document("Domain", "risk", {"owner": "group:finance", "subdomainOf": "domain:finance"}, title="Risk")
    repo.put({"catalog-info.yaml": "# Risk: a subdomain of finance.\n" + yaml_file(domain)})
    location_register(type="git", target=repo.target(), actor=platform_user, trusted=True)
    return repo


def test_staff_edit_a_domain_but_not_its_name(client, platform_user, risk):
    signed_in(client, platform_user)
    form = client.get(reverse("dataproducts:domain_edit", args=["risk"])).content.decode()
    assert 'name="name" value="risk"' in form and "disabled" in form
    assert '<option value="finance" selected>finance</option>' in form

    response = client.post(
        reverse("dataproducts:domain_edit", args=["risk"]),
        {"name": "renamed", "title": "Risk and compliance", "owner_ref": "group:finance", "parent": ""},
    )

    assert response.status_code == 302 and response["Location"] == reverse("dataproducts:domain_list")
    domain = Domain.objects.get(name="risk")
    assert (domain.title, domain.parent_name) == ("Risk and compliance", "")
    assert not Domain.objects.filter(name="renamed").exists()
    text = (git.Repo(risk.bare_path).head.commit.tree / "catalog-info.yaml").data_stream.read().decode()
    assert text.startswith("# Risk: a subdomain of finance.\n") and "subdomainOf" not in text
    assert "Saved the domain risk." in client.get(response["Location"]).content.decode()


def test_a_domain_cannot_be_its_own_parent(client, platform_user, file_domains):
    form = signed_in(client, platform_user).get(reverse("dataproducts:domain_edit", args=["marketing"]))
    assert '<option value="marketing">' not in form.content.decode()
    assert '<option value="finance">finance</option>' in form.content.decode()
