"""Signing in and out, and what anonymous users may reach."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.testing.personas import create_personas

PASSWORD = "correct horse battery staple"


def test_the_login_page_is_public(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'<label for="id_username">' in response.content


def test_a_persona_signs_in_and_lands_on_the_marketplace(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:home")
    assert client.get(reverse("marketplace:home")).context["user"] == alice


def test_a_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert not response.context["user"].is_authenticated


def test_signing_in_returns_to_the_page_asked_for(client, alice):
    response = client.post(
        reverse("login") + "?next=/catalog/", {"username": "alice", "password": PASSWORD, "next": "/catalog/"}
    )
    assert response["Location"] == "/catalog/"


def test_signing_out_ends_the_session(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("catalog:home")).status_code == 302


def test_signing_out_needs_a_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405


@pytest.mark.parametrize("path", ["/", "/builder/", "/catalog/", "/governance/", "/accounts/profile/", "/admin/"])
def test_anonymous_users_reach_only_the_login_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_anonymous_users_reach_static_files_and_health(client, db):
    assert client.get("/static/css/meshforge.css").status_code == 200
    assert client.get("/healthz").status_code in {200, 503}
    assert client.get("/favicon.ico").status_code == 301


def test_only_staff_see_the_admin_link(client, alice, platform_user):
    client.force_login(alice)
    assert b'href="/admin/"' not in client.get("/").content
    client.force_login(platform_user)
    assert b'href="/admin/"' in client.get("/").content


def test_the_active_area_is_marked_in_the_navigation(client, alice):
    client.force_login(alice)
    content = client.get("/catalog/").content.decode()
    assert '<a href="/catalog/" aria-current="page">Catalog</a>' in content


def test_unknown_pages_get_the_friendly_not_found_page(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_the_personas_belong_to_their_teams(personas):
    teams = {name: sorted(user.groups.values_list("name", flat=True)) for name, user in personas.items()}
    assert teams == {"platform": ["platform"], "alice": ["finance"], "bob": ["marketing"], "carol": []}
    assert personas["platform"].is_staff
    assert not any(personas[name].is_staff for name in ("alice", "bob", "carol"))


def test_the_first_creation_of_the_personas_writes_what_updating_them_writes(db):
    """``create_personas`` inserts the cast in bulk into a database without it, and upserts it otherwise: both
    write the same rows."""
    fields = ("username", "first_name", "last_name", "email", "is_staff", "is_superuser", "is_active")

    def rows():
        users = get_user_model().objects.order_by("username")
        return [
            (*(getattr(user, field) for field in fields), sorted(user.groups.values_list("name", flat=True)))
            for user in users
        ]

    inserted = create_personas(passwords={"alice": "s3cret alice"})
    first = rows()
    assert inserted["alice"].check_password("s3cret alice") and inserted["bob"].check_password(PASSWORD)
    get_user_model().objects.update(first_name="changed", is_staff=True)
    get_user_model().objects.get(username="alice").groups.clear()
    updated = create_personas(passwords={"alice": "s3cret alice"})
    assert rows() == first
    assert {name: user.pk for name, user in updated.items()} == {name: user.pk for name, user in inserted.items()}
    assert updated["alice"].check_password("s3cret alice")
