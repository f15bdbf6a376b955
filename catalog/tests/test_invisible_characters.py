"""Bidi controls and zero-width characters: refused in identifiers (names, refs, types, link URLs, versions) with a
message naming the field and the character, kept in free text (titles, descriptions) and shown isolated."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.services import location_register
from catalog.validation import validate_entity
from core.testing.git import GitRepo
from core.text import invisible_character, reveal_invisible

# bidi embeddings, overrides, isolates and marks; zero-width space, joiners, word joiner, byte order mark
INVISIBLE = [
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u200e",
    "\u200f",
    "\u061c",
    *map(chr, range(0x200B, 0x200E)),
    "\u2060",
    "\ufeff",
]
RLO = "\u202e"


def component(metadata: dict | None = None, spec: dict | None = None) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "ledger", **(metadata or {})},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:finance", **(spec or {})},
    }


def data_product_component(version: str) -> dict:
    return component(
        metadata={"name": "finance.cashflow.0.ledger"},
        spec={"system": "system:finance.cashflow.0", "mesh": {"version": version}},
    )


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda char: f"U+{ord(char):04X}")
def test_every_bidi_control_and_zero_width_character_counts_as_invisible(char):
    assert invisible_character(f"finance{char}team") == char
    assert reveal_invisible(f"a{char}b") == f"a\\u{ord(char):04x}b"


def test_letters_of_any_script_are_not_invisible():
    for text in ["finance", "مالية", "כספים", "财务", "Café", "👩"]:
        assert invisible_character(text) is None


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda char: f"U+{ord(char):04X}")
@pytest.mark.parametrize(
    ("field", "document"),
    [
        ("spec.owner", lambda x: component(spec={"owner": f"group:fin{x}ance"})),
        ("spec.system", lambda x: component(spec={"system": f"cashflow{x}"})),
        ("spec.dependsOn[0]", lambda x: component(spec={"dependsOn": [f"resource:{x}warehouse"]})),
        ("spec.type", lambda x: component(spec={"type": f"ser{x}vice"})),
        ("spec.lifecycle", lambda x: component(spec={"lifecycle": f"production{x}"})),
        ("metadata.name", lambda x: component(metadata={"name": f"led{x}ger"})),
        ("metadata.namespace", lambda x: component(metadata={"namespace": f"fin{x}"})),
        ("metadata.tags[0]", lambda x: component(metadata={"tags": [f"gold{x}"]})),
        ("metadata.labels", lambda x: component(metadata={"labels": {f"tier{x}": "gold"}})),
        ("metadata.annotations", lambda x: component(metadata={"annotations": {f"x{x}": "y"}})),
    ],
)
def test_identifiers_refuse_invisible_characters_naming_field_and_character(field, document, char):
    problems = validate_entity(document(char), source="catalog-info.yaml")

    code = f"U+{ord(char):04X}"
    assert any(
        problem.startswith(f"catalog-info.yaml: {field} ") and f"contains {code} (" in problem for problem in problems
    ), problems
    assert not any(char in problem for problem in problems), "the message shows the character as an escape"


def test_a_link_url_with_a_bidi_override_is_refused():
    problems = validate_entity(
        component(metadata={"links": [{"url": f"https://example.com/{RLO}gpj.exe", "title": "Docs"}]}), source="f"
    )
    assert problems and problems[0].startswith("f: metadata.links[0].url ")


def test_a_data_product_version_with_an_invisible_character_is_refused():
    problems = validate_entity(data_product_component("1.0.0\u200b"), source="f")
    assert any(problem.startswith("f: spec.mesh.version ") and "U+200B" in problem for problem in problems)


@pytest.mark.parametrize("char", [RLO, "\u200f", "\u200d", "\u061c"], ids=lambda char: f"U+{ord(char):04X}")
def test_free_text_keeps_them(char):
    document = component(
        metadata={
            "title": f"دفتر الأستاذ{char} ledger",
            "description": f"כל ההזמנות{char} of the company",
            "annotations": {"example.com/note": f"x{char}y"},
            "links": [{"url": "https://example.com/docs", "title": f"Docs{char}"}],
        }
    )
    assert validate_entity(document, source="f") == []


# --- pages ---------------------------------------------------------------------------------------------------

SPOOF = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  title: "Ledger {RLO}gnp.exe"
  description: "Every booking {RLO}reversed"
  links: [{{url: "ssh://git.example.com/ledger.git", title: "Clone {RLO}x"}}]
spec: {{type: service, lifecycle: production, owner: group:finance}}
"""


@pytest.fixture
def spoofing_title(tmp_path, settings, platform_user):
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"
    repo = GitRepo(tmp_path / "git", "finance", "main")
    repo.put({"catalog-info.yaml": SPOOF})
    result = location_register(type="git", target=repo.target(), actor=platform_user)
    assert not result.errors, result.errors


def test_the_entity_page_isolates_title_description_and_a_link_title_shown_as_text(client, alice, spoofing_title):
    client.force_login(alice)
    url = reverse("catalog:entity_detail", kwargs={"kind": "component", "namespace": "default", "name": "ledger"})

    content = client.get(url).content.decode()

    assert f'<h1 id="entity-title"><bdi>Ledger {RLO}gnp.exe</bdi>' in content
    assert f'<p class="lead" dir="auto">Every booking {RLO}reversed</p>' in content
    assert f"<bdi>Clone {RLO}x</bdi> <span" in content  # a link shown as text, its URL after it


def test_the_entity_list_isolates_titles(client, alice, spoofing_title):
    client.force_login(alice)

    content = client.get(reverse("catalog:home")).content.decode()

    assert f"<td><bdi>Ledger {RLO}gnp.exe</bdi></td>" in content
