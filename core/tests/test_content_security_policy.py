"""Every response carries the Content-Security-Policy (MESHFORGE_CSP): scripts and styles from Meshforge only, no
inline ones. ReDoc's page alone admits inline styles, DRF's browsable API too (templates not ours); no template of
ours has an inline script, style or handler. The browser side is tests/browser/test_content_security_policy.py."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from core.middleware import csp_extend

POLICY = django_settings.MESHFORGE_CSP
ANONYMOUS_PATHS = ["/accounts/login/", "/healthz", "/no-such-page/", "/api/me/"]
ALICE_PATHS = [
    "/",
    "/builder/",
    "/builder/templates/",
    "/catalog/",
    "/catalog/locations/",
    "/governance/",
    "/accounts/profile/",
    "/api/docs/",
    "/api/docs/?script=",
    "/api/schema/",
    "/api/catalog/entities/by-query",
    "/admin/",  # alice is no staff: the admin's sign-in page
]
PLATFORM_PATHS = ["/admin/", "/admin/core/apitoken/", "/admin/auth/user/"]


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_default_policy_refuses_inline_code_and_other_origins():
    policy = directives(POLICY)

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert policy["worker-src"] == ["'self'", "blob:"]


@pytest.mark.parametrize("path", ANONYMOUS_PATHS)
def test_anonymous_answers_carry_the_policy(client, db, path):
    assert client.get(path)["Content-Security-Policy"] == POLICY


@pytest.mark.parametrize("path", ALICE_PATHS)
def test_pages_and_api_answers_carry_the_policy(client, alice, path):
    client.force_login(alice)

    assert client.get(path, HTTP_ACCEPT="application/json")["Content-Security-Policy"] == POLICY


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_admin_pages_carry_the_policy(client, platform_user, path):
    client.force_login(platform_user)

    assert client.get(path)["Content-Security-Policy"] == POLICY


def test_the_swagger_ui_loads_its_start_script_from_a_url(client, alice):
    client.force_login(alice)

    page = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/?script=")

    assert re.search(r'<script src="/api/docs/\?script="></script>', page)
    assert "<style" not in page and not re.search(r"<script>", page)
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_redoc_alone_admits_inline_styles_and_loads_no_fonts_from_elsewhere(client, alice):
    client.force_login(alice)

    response = client.get("/api/redoc/")

    page = response.content.decode()
    assert directives(response["Content-Security-Policy"])["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]
    assert "fonts.googleapis.com" not in page and "<style" not in page and "<script>" not in page


def test_the_browsable_api_admits_inline_styles_but_scripts_stay_strict(client, alice):
    client.force_login(alice)

    response = client.get("/api/me/", HTTP_ACCEPT="text/html")

    assert response["Content-Type"].startswith("text/html")
    assert directives(response["Content-Security-Policy"])["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_meshforge_csp_replaces_the_policy_and_an_empty_one_sends_none(client, db, settings):
    settings.MESHFORGE_CSP = "default-src 'self' https://cdn.example.com"
    assert client.get("/accounts/login/")["Content-Security-Policy"] == "default-src 'self' https://cdn.example.com"

    settings.MESHFORGE_CSP = ""
    assert "Content-Security-Policy" not in client.get("/accounts/login/")


def test_csp_extend_adds_sources_to_a_directive_or_starts_from_default_src():
    assert csp_extend("default-src 'self'; style-src 'self'", "style-src", "'unsafe-inline'") == (
        "default-src 'self'; style-src 'self' 'unsafe-inline'"
    )
    assert (
        csp_extend("default-src 'self' data:", "img-src", "blob:")
        == "default-src 'self' data:; img-src 'self' data: blob:"
    )
    assert csp_extend("style-src 'self'", "style-src", "'self'") == "style-src 'self'"


# --- our templates: nothing the policy would refuse ----------------------------------------------------------

INLINE = {
    "an inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an on* handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "an hx-on handler": re.compile(r"\shx-on", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


COMMENTS = re.compile(r"\{% comment %\}.*?\{% endcomment %\}|\{#.*?#\}", re.DOTALL)


def without_comments(text: str) -> str:
    """The template with its comments blanked out, keeping line numbers."""
    return COMMENTS.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), text)


def project_templates() -> list[Path]:
    base = Path(django_settings.BASE_DIR)
    folders = [base / "templates", *sorted(base.glob("*/templates"))]
    return sorted(path for folder in folders for path in folder.rglob("*.html") if "tests" not in path.parts)


def test_no_template_of_ours_has_inline_scripts_styles_or_handlers():
    templates = project_templates()
    found = [
        f"{path.relative_to(django_settings.BASE_DIR)}:{text[: match.start()].count(chr(10)) + 1}: {what}"
        for path in templates
        for text in [without_comments(path.read_text())]
        for what, pattern in INLINE.items()
        for match in pattern.finditer(text)
    ]

    assert len(templates) > 40
    assert found == [], "move these into static files or CSS classes:\n" + "\n".join(found)
