"""API tokens may expire: the profile offers never / 30 / 90 / 365 days at creation and shows when each token
expires; after that the API answers 401 saying the token expired; the admin shows the expiry too."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import ApiToken, AuditEvent
from core.services import api_token_create

ME = "/api/me/"


@pytest.mark.parametrize(("choice", "days"), [("30", 30), ("90", 90), ("365", 365)])
def test_a_token_created_on_the_profile_expires_after_the_chosen_days(client, alice, choice, days):
    client.force_login(alice)

    response = client.post(reverse("profile"), {"name": "CI pipeline", "expires_in": choice})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=alice)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=days))) < timedelta(minutes=1)
    assert f"{token.expires_at:%Y-%m-%d}" in response.content.decode()


def test_a_token_may_never_expire(client, alice):
    client.force_login(alice)

    client.post(reverse("profile"), {"name": "CI pipeline", "expires_in": "never"})

    assert ApiToken.objects.get(user=alice).expires_at is None
    assert "<td>never</td>" in client.get(reverse("profile")).content.decode()


def test_the_profile_offers_the_expiry_choices_with_90_days_first_chosen(client, alice):
    client.force_login(alice)

    form = client.get(reverse("profile")).context["form"]

    assert [value for value, _ in form.fields["expires_in"].choices] == ["30", "90", "365", "never"]
    assert form["expires_in"].value() == "90"


def test_an_unknown_expiry_choice_is_refused_next_to_the_field(client, alice):
    client.force_login(alice)

    response = client.post(reverse("profile"), {"name": "CI pipeline", "expires_in": "7"})

    assert response.status_code == 400
    assert "expires_in" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_expiry_is_audited(alice):
    expires_at = timezone.now() + timedelta(days=30)

    token, _ = api_token_create(user=alice, name="CI", actor=alice, expires_at=expires_at)

    assert AuditEvent.objects.get(action="apitoken.create").after["expires_at"] == expires_at.isoformat()
    assert token.expires_at == expires_at


def test_a_token_cannot_be_created_already_expired(alice):
    with pytest.raises(ValidationError) as error:
        api_token_create(user=alice, name="CI", actor=alice, expires_at=timezone.now() - timedelta(seconds=1))

    assert error.value.message_dict == {"expires_at": ["The expiry must be in the future."]}


def test_a_token_works_until_it_expires_then_gets_401_saying_it_expired(api_client, alice):
    token, key = api_token_create(user=alice, name="CI", actor=alice, expires_at=timezone.now() + timedelta(days=1))
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="meshforge"'
    expired = ApiToken.objects.get(pk=token.pk).expires_at
    assert response.json() == {
        "detail": f"This token expired on {expired:%Y-%m-%d %H:%M} UTC; create a new one on your profile page."
    }


def test_the_catalog_api_says_so_in_backstage_errors(api_client, alice):
    _, key = api_token_create(user=alice, name="CI", actor=alice, expires_at=timezone.now() + timedelta(seconds=1))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=1))

    response = api_client.get("/api/catalog/entities/by-query", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 401
    assert response.json()["error"]["name"] == "AuthenticationError"
    assert response.json()["error"]["message"].startswith("This token expired on ")


def test_the_profile_marks_expired_tokens(client, alice):
    api_token_create(user=alice, name="old", actor=alice, expires_at=timezone.now() + timedelta(seconds=1))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(alice)

    page = client.get(reverse("profile")).content.decode()

    assert '<span class="badge badge-error">expired</span>' in page


def test_the_admin_shows_the_expiry(client, platform_user, alice):
    api_token_create(user=alice, name="CI", actor=alice, expires_at=timezone.now() + timedelta(days=30))
    client.force_login(platform_user)

    response = client.get(reverse("admin:core_apitoken_changelist"))

    assert response.status_code == 200
    assert "column-expires_at" in response.content.decode()
