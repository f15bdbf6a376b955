"""The authorization matrix (``tests/authz_matrix.py``) holds for every URL of Meshforge and every persona, and every
URL pattern has an entry in it, so that a new endpoint cannot arrive without saying who may use it.

One test sends every case in one world, each in a savepoint that is rolled back (and with the Git repositories put
back when a request committed to one), so that no case sees what another did; all differences are reported at once.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client

from tests.authz import (
    METHODS,
    PERSONAS,
    REDIRECT,
    REDIRECT_TARGETS,
    GitSnapshot,
    admin_model_page,
    url_patterns,
)
from tests.authz_matrix import ADMIN, ADMIN_MODELS, API, PAGES, TECH_ADAPTERS, admin_model_expectations

ENTRIES = {**PAGES, **API, **ADMIN, **TECH_ADAPTERS}
ADD_AN_ENTRY = (
    "Add an entry to tests/authz_matrix.py saying which status each persona (anonymous, carol, bob, alice, platform) "
    "gets from each method, and give its URL parameters real objects of tests/world.py."
)


def test_every_url_pattern_has_an_entry_in_the_authorization_matrix():
    missing = []
    for pattern in url_patterns():
        model_page = admin_model_page(pattern)
        if model_page is not None:
            if model_page[0] not in ADMIN_MODELS:
                missing.append(f"{pattern.route} (the admin of {model_page[0]}: add it to ADMIN_MODELS)")
        elif pattern.key not in ENTRIES:
            missing.append(f"{pattern.key} ({pattern.route})")
    assert not missing, (
        "URL patterns without an authorization matrix entry:\n  " + "\n  ".join(missing) + (f"\n{ADD_AN_ENTRY}")
    )


def test_every_entry_of_the_authorization_matrix_names_a_url_pattern():
    keys = {pattern.key for pattern in url_patterns()}
    labels = {page[0] for pattern in url_patterns() if (page := admin_model_page(pattern))}
    stale = sorted(set(ENTRIES) - keys) + sorted(set(ADMIN_MODELS) - labels)
    assert not stale, f"entries of tests/authz_matrix.py for URLs or admin models that are gone: {stale}"


def _cases(world) -> list[tuple[str, str, str, str, object]]:
    """(key, url, method, persona, expected) for every pattern: the entry's methods for each persona, and the
    methods it leaves out for the platform team (405 unless the entry says otherwise; not for the admin)."""
    context = {
        **vars(world),
        "user_content_type": ContentType.objects.get_for_model(get_user_model()).pk,
    }
    cases = []
    for pattern in url_patterns():
        model_page = admin_model_page(pattern)
        if model_page is not None:
            label, page = model_page
            entry = {"kwargs": {"object_id": world.first_pk(apps.get_model(label))}}
            entry |= admin_model_expectations(page, ADMIN_MODELS[label])
        else:
            entry = ENTRIES[pattern.key]
        kwargs = {name: str(value).format(**context) for name, value in entry.get("kwargs", {}).items()}
        url = entry.get("url") or pattern.url(kwargs) + entry.get("query", "")
        for method in METHODS:
            if method in entry:
                cases += [
                    (pattern.key, url, method, persona, expected)
                    for persona, expected in zip(PERSONAS, entry[method], strict=True)
                ]
            elif not pattern.is_admin:
                cases.append((pattern.key, url, method, "platform", entry.get("other", 405)))
    return cases


def _outcome(response) -> object:
    """The status, or for a redirect where it leads: the login page, the admin's login page, or elsewhere."""
    if response.status_code == 302:
        for name, target in REDIRECT_TARGETS.items():
            if response["Location"].startswith(target):
                return name
        return REDIRECT
    return response.status_code


def test_each_persona_gets_what_the_authorization_matrix_says_from_every_url(world, tmp_path):
    clients = {persona: Client(raise_request_exception=False) for persona in PERSONAS}
    for persona, client in clients.items():
        if persona != "anonymous":
            client.force_login(world.personas[persona])
    repositories = GitSnapshot(tmp_path / "world", keep=tmp_path / "pristine")

    differences = []
    started = time.monotonic()
    cases = _cases(world)
    for key, url, method, persona, expected in cases:
        client = clients[persona]
        cookies = SimpleCookie(client.cookies)  # a logout must not sign the persona out for the next case
        body = b"{}" if url.startswith("/api/") and method != "GET" else b""
        content_type = "application/json" if url.startswith("/api/") else "application/x-www-form-urlencoded"
        with transaction.atomic():
            response = client.generic(method, url, body, content_type=content_type)
            transaction.set_rollback(True)
        client.cookies = cookies
        outcome = _outcome(response)
        if outcome != expected:
            differences.append(f"{method:6} {url:70} {persona:9} expected {expected}, got {outcome}  [{key}]")
        if method != "GET":
            repositories.restore()
    elapsed = time.monotonic() - started

    assert not differences, (
        f"{len(differences)} of {len(cases)} cases differ from tests/authz_matrix.py:\n"
        + "\n".join(differences)
        + "\nFix the view, or, if the new behaviour is intended, the matrix."
    )
    assert elapsed < 60, f"{len(cases)} cases took {elapsed:.0f} s"
