import pytest
from django.urls import reverse

LANDING_PAGES = ["marketplace:home", "dataproducts:home", "catalog:home", "governance:home"]


@pytest.mark.parametrize("url_name", LANDING_PAGES)
def test_anonymous_users_are_sent_to_the_login_page(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("url_name", LANDING_PAGES)
def test_signed_in_users_see_every_landing_page(client, alice, url_name):
    client.force_login(alice)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert b"Meshforge" in response.content
