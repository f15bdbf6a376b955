"""The Builder with bidi controls and zero-width characters: identifiers (name, tags, columns, domain and owner
pickers) refuse them naming the field and the character; titles and descriptions keep them and are shown
isolated on every page that names the data product or component."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dataproducts import selectors
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.values import values_validate
from dataproducts.tests.conftest import dp_values, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_templates")]

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
ZWSP = "\u200b"  # ZERO WIDTH SPACE


def errors_of(template_ref: str, values: dict, user) -> dict[str, list[str]]:
    parameters = selectors.template_get(ref=template_ref).spec["parameters"]
    return values_validate(parameters, values, context=PickerContext(user=user))


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("name", f"cash{ZWSP}flow", "contains U+200B (ZERO WIDTH SPACE)"),
        ("tags", ["finance", f"gold{RLO}"], "contains U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("domain", f"domain:fin{RLO}ance", "contains U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("owner", f"group:finance{ZWSP}", "contains U+200B (ZERO WIDTH SPACE)"),
    ],
)
def test_an_identifier_with_an_invisible_character_is_refused_naming_it(
    file_templates, file_domains, alice, field, value, shown
):
    errors = errors_of("template:dataproduct", dp_values(**{field: value}), alice)

    path = "tags[1]" if field == "tags" else field
    assert list(errors) == [path]
    assert errors[path] == [f"{shown}, an invisible or direction-changing character, which is not allowed here"]


def test_a_column_name_with_an_invisible_character_is_refused_naming_it(file_templates, file_domains, alice):
    columns = [{"name": f"d{ZWSP}ay", "dataType": "DATE"}]

    errors = errors_of("template:outputport", port_values(columns=columns), alice)

    assert list(errors) == ["columns[0].name"]
    assert errors["columns[0].name"][0].startswith("contains U+200B (ZERO WIDTH SPACE), an invisible")


def test_a_value_quoted_in_a_message_shows_the_character_as_an_escape(file_templates, file_domains, alice):
    errors = errors_of("template:outputport", port_values(dependsOn=[f"x{RLO}y"]), alice)

    assert errors == {"dependsOn[0]": ['"x\\u202ey" is not a component of this data product']}


def test_titles_and_descriptions_keep_them(file_templates, file_domains, alice):
    values = dp_values(title=f"التدفق النقدي{RLO}", description=f"תזרים מזומנים\u200f{ZWSP} operating")

    assert errors_of("template:dataproduct", values, alice) == {}


def test_the_pages_isolate_the_title_and_description_of_a_data_product(client, alice, build_dp):
    data_product = build_dp(
        alice,
        title=f"Cash {RLO}flow",
        description=f"Operating {RLO}cash",
        components=[port_values(title=f"Daily {RLO}balances")],
    )
    client.force_login(alice)

    detail = reverse("dp:dataproduct_detail", args=[data_product.name])
    page = client.get(detail).content.decode()
    components = client.get(f"{detail}?tab=components").content.decode()
    listing = client.get(reverse("dataproducts:home")).content.decode()

    assert f'<h1 id="dp-title"><bdi>Cash {RLO}flow</bdi>' in page
    assert f'<p class="lead" dir="auto">Operating {RLO}cash</p>' in page
    assert f"<bdi>Daily {RLO}balances</bdi></a>" in components
    assert f"<bdi>Cash {RLO}flow</bdi></a>" in listing
    assert f"Cash {RLO}flow" not in listing.replace(f"<bdi>Cash {RLO}flow</bdi>", "")
