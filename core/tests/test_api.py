"""The API base: session and token authentication, 401s that say how to authenticate, one error body."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ParseError

from core.api.exceptions import exception_handler
from core.models import ApiToken
from core.services import api_token_create, api_token_revoke

ME = "/api/me/"


def test_me_answers_the_signed_in_user_and_teams_over_a_session(api_client, alice):
    api_client.force_login(alice)
    response = api_client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Andersen",
        "email": "alice@example.com",
        "is_staff": False,
        "teams": ["finance"],
    }


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_me_accepts_a_personal_token_with_either_keyword(api_client, bob, keyword):
    _, key = api_token_create(user=bob, name="script", actor=bob)
    response = api_client.get(ME, HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert response.status_code == 200
    assert response.json()["username"] == "bob"
    assert ApiToken.objects.get(user=bob).last_used_at is not None


def test_anonymous_api_requests_get_401_with_www_authenticate(api_client, db):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="meshforge"'
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("header", ["Bearer mf_not-a-real-token", "Bearer", "Token a b", "Bearer nonsense"])
def test_bad_tokens_get_401(api_client, db, header):
    response = api_client.get(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_a_revoked_token_stops_working(api_client, carol):
    token, key = api_token_create(user=carol, name="laptop", actor=carol)
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    api_token_revoke(token=token, actor=carol)
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_a_token_of_a_deactivated_user_stops_working(api_client, carol):
    _, key = api_token_create(user=carol, name="laptop", actor=carol)
    carol.is_active = False
    carol.save()
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_session_writes_need_the_csrf_token(alice):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(ME, {})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_validation_errors_name_every_field():
    class Sample(serializers.Serializer):
        name = serializers.CharField()
        tags = serializers.ListField(child=serializers.IntegerField())

    sample = Sample(data={"tags": ["x"]})
    assert not sample.is_valid()
    response = exception_handler(serializers.ValidationError(sample.errors), {})
    assert response.status_code == 400
    assert response.data["errors"] == {"name": ["This field is required."], "tags.0": ["A valid integer is required."]}
    assert response.data["detail"] == "Invalid input (name: This field is required.)"


def test_model_validation_errors_become_400_with_field_errors():
    response = exception_handler(DjangoValidationError({"name": ["Too long."], "__all__": ["Clash."]}), {})
    assert response.status_code == 400
    assert response.data["errors"] == {"name": ["Too long."], "non_field_errors": ["Clash."]}


def test_other_errors_keep_a_plain_detail():
    response = exception_handler(NotFound("No such data product."), {})
    assert response.status_code == 404
    assert response.data == {"detail": "No such data product."}


def test_absurdly_nested_json_is_a_400_not_a_crash():
    import io

    from core.api.parsers import JSONParser

    with pytest.raises(ParseError, match="nested too deeply"):
        JSONParser().parse(io.BytesIO(b"[" * 100_000), "application/json")
