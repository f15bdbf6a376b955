"""Sign-in throttling: guessing alice's password from one address is slowed down (then that address is refused),
counted in the database, while alice still signs in from elsewhere; the page says why, with 429 and Retry-After;
the client's address comes from X-Forwarded-For only behind the configured number of proxies."""

import re
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from core.models import SignInFailure
from core.signin import client_address, signin_failures_purge
from core.testing.personas import TEST_PASSWORD

ATTACKER = "203.0.113.66"
ALICE_HOME = "198.51.100.7"
LOGIN = "/accounts/login/"
ACCOUNT_MESSAGE = re.compile(r"Too many failed sign-ins for this account from your address; try again in (\d+) s\.")
ADDRESS_MESSAGE = re.compile(r"Too many failed sign-ins from your address; try again in (\d+) s\.")


def sign_in(address: str, password: str, username: str = "alice", url: str = LOGIN):
    return Client(REMOTE_ADDR=address).post(url, {"username": username, "password": password})


def page_text(response) -> str:
    return response.content.decode()


def age(address: str, seconds: int) -> None:
    """As if the failures from ``address`` had happened ``seconds`` earlier: the test's way of waiting."""
    for failure in SignInFailure.objects.filter(address=address):
        failure.time -= timedelta(seconds=seconds)
        failure.save(update_fields=["time"])


def guess(times: int) -> list:
    """``times`` wrong passwords for alice from one address, as fast as the test client goes."""
    return [sign_in(ATTACKER, f"guess {number}") for number in range(times)]


@pytest.fixture
def guessed(alice):
    """Enough wrong passwords for alice from one address to be slowed down (5 are checked, the rest refused)."""
    return guess(8)


def test_forty_wrong_passwords_then_the_right_one_is_refused_with_a_clear_message(alice):
    guessed = guess(40)
    checked = [response for response in guessed if response.status_code == 200]
    refused = [response for response in guessed if response.status_code == 429]
    assert len(checked) == 5 and len(refused) == 35
    assert SignInFailure.objects.filter(username="alice", address=ATTACKER).count() == 5

    response = sign_in(ATTACKER, TEST_PASSWORD)

    assert response.status_code == 429
    wait = int(ACCOUNT_MESSAGE.search(page_text(response)).group(1))
    assert 1 < wait <= 16 and response["Retry-After"] == str(wait)
    assert '<div class="form-errors" role="alert"><p>Too many failed sign-ins' in page_text(response)
    assert "_auth_user_id" not in response.wsgi_request.session


def test_alice_signs_in_at_once_from_an_address_without_failures(guessed):
    response = sign_in(ALICE_HOME, TEST_PASSWORD)

    assert response.status_code == 302
    assert response.wsgi_request.user.get_username() == "alice"


def test_an_address_with_a_failure_on_the_guessed_account_waits_the_slowdown_then_signs_in(guessed):
    assert sign_in(ALICE_HOME, "a typo").status_code == 200

    refused = sign_in(ALICE_HOME, TEST_PASSWORD)
    assert refused.status_code == 429
    assert ACCOUNT_MESSAGE.search(page_text(refused)).group(1) == "1"

    age(ALICE_HOME, 2)
    response = sign_in(ALICE_HOME, TEST_PASSWORD)

    assert response.status_code == 302
    assert not SignInFailure.objects.filter(address=ALICE_HOME).exists()  # forgiven after success


def test_the_guessing_address_waits_longer_after_each_failure(guessed):
    waits = []
    for _ in range(4):
        refused = sign_in(ATTACKER, "another guess")
        waits.append(int(refused["Retry-After"]))
        age(ATTACKER, waits[-1])
        assert sign_in(ATTACKER, "another guess").status_code == 200  # checked, and wrong

    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]


def test_the_slowdown_stops_once_the_failures_age_out(guessed, settings):
    age(ATTACKER, settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)

    assert sign_in(ATTACKER, TEST_PASSWORD).status_code == 302


def test_an_address_failing_on_many_accounts_is_refused_for_the_window(carol, settings):
    for number in range(settings.LOGIN_ADDRESS_FAILURES):
        assert sign_in(ATTACKER, "guess", username=f"user{number}").status_code == 200

    response = sign_in(ATTACKER, TEST_PASSWORD, username="carol")

    assert response.status_code == 429
    wait = int(ADDRESS_MESSAGE.search(page_text(response)).group(1))
    assert settings.LOGIN_FAILURE_WINDOW_SECONDS - 60 < wait <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert sign_in(ALICE_HOME, TEST_PASSWORD, username="carol").status_code == 302


def test_the_admin_sign_in_page_is_throttled_too(guessed, platform_user):
    response = sign_in(ATTACKER, TEST_PASSWORD, url=reverse("admin:login"))

    assert response.status_code == 429
    assert ACCOUNT_MESSAGE.search(page_text(response))


def test_a_successful_sign_in_is_not_counted(alice):
    for _ in range(10):
        assert sign_in(ALICE_HOME, TEST_PASSWORD).status_code == 302

    assert not SignInFailure.objects.exists()


def test_old_failures_are_purged(guessed, settings):
    age(ATTACKER, settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)
    sign_in(ALICE_HOME, "a typo")

    assert signin_failures_purge() == 5
    assert list(SignInFailure.objects.values_list("address", flat=True)) == [ALICE_HOME]


# --- the client's address ------------------------------------------------------------------------------------


def request(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.MESHFORGE_TRUSTED_PROXY_COUNT = 0

    assert client_address(request("192.0.2.1", "203.0.113.9")) == "192.0.2.1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.1, 203.0.113.9", "203.0.113.9"),  # whatever the client put first proves nothing
        (2, "10.0.0.1, 203.0.113.9, 192.0.2.50", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),
        (1, "not-an-address", "192.0.2.1"),
        (1, "", "192.0.2.1"),
    ],
)
def test_behind_trusted_proxies_the_address_the_outermost_proxy_saw_counts(settings, proxies, forwarded, expected):
    settings.MESHFORGE_TRUSTED_PROXY_COUNT = proxies

    assert client_address(request("192.0.2.1", forwarded)) == expected


def test_an_ipv6_client_counts_as_its_64_network(settings):
    assert client_address(request("2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::/64"
    assert client_address(request("::ffff:192.0.2.8")) == "192.0.2.8"


def test_a_spoofed_x_forwarded_for_does_not_escape_the_throttle(guessed):
    response = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.200").post(
        LOGIN, {"username": "alice", "password": TEST_PASSWORD}
    )

    assert response.status_code == 429
