"""Users create and revoke their own API tokens on the profile page; every change is audited."""

from django.urls import reverse

from core.models import ApiToken, AuditEvent
from core.services import api_token_create


def test_the_profile_shows_the_user_and_teams(client, alice):
    client.force_login(alice)
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert b'<span class="tag">finance</span>' in response.content


def test_a_new_token_is_shown_once_and_stored_only_as_a_digest(client, alice):
    client.force_login(alice)
    response = client.post(reverse("profile"), {"name": "CI pipeline", "expires_in": "90"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("mf_")
    token = ApiToken.objects.get(user=alice)
    assert token.key_digest == ApiToken.digest(key)
    assert key not in {token.key_prefix, token.key_digest}
    assert key.encode() not in client.get(reverse("profile")).content


def test_token_creation_is_audited_in_the_same_transaction(client, alice):
    client.force_login(alice)
    client.post(reverse("profile"), {"name": "CI pipeline", "expires_in": "never"})
    event = AuditEvent.objects.get(action="apitoken.create")
    assert event.actor == alice
    assert event.after == {
        "name": "CI pipeline",
        "key_prefix": ApiToken.objects.get().key_prefix,
        "user": "alice",
        "expires_at": None,
    }
    assert event.request_id


def test_a_duplicate_token_name_is_refused_next_to_the_field(client, alice):
    api_token_create(user=alice, name="CI pipeline", actor=alice)
    client.force_login(alice)
    response = client.post(reverse("profile"), {"name": "ci PIPELINE", "expires_in": "30"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["You already have a token with this name."]}
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_a_blank_token_name_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(reverse("profile"), {"name": ""})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_two_users_may_use_the_same_token_name(alice, bob):
    api_token_create(user=alice, name="laptop", actor=alice)
    api_token_create(user=bob, name="laptop", actor=bob)
    assert ApiToken.objects.count() == 2


def test_users_revoke_their_own_tokens(client, alice):
    token, _ = api_token_create(user=alice, name="old", actor=alice)
    client.force_login(alice)
    response = client.post(reverse("apitoken_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="apitoken.revoke", actor=alice, before__name="old").exists()


def test_nobody_revokes_another_users_token(client, alice, bob):
    token, _ = api_token_create(user=alice, name="mine", actor=alice)
    client.force_login(bob)
    response = client.post(reverse("apitoken_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_revoking_needs_a_post(client, alice):
    token, _ = api_token_create(user=alice, name="mine", actor=alice)
    client.force_login(alice)
    assert client.get(reverse("apitoken_revoke", args=[token.pk])).status_code == 405
