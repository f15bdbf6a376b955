"""Link URLs as browsers read them (catalog.validation, PRODUCT §3.1): Backstage checks ``metadata.links[].url`` with
JavaScript's ``new URL()``, the WHATWG URL standard, and so does Meshforge. The verdicts below are Node's; the
Backstage conformance test (tests/interop/test_backstage_validation.py) checks links inside whole entities."""

from __future__ import annotations

import pytest

from catalog.validation import validate_entity

# Every one of these parses with new URL() (Node 20).
URLS = [
    "https://example.com",
    "http:example.com",
    "http:\\\\example.com",
    "foo:bar",
    "mailto:",
    "urn:isbn:1",
    "https://example.com/a b",
    "http:///x",
    "http://example.com:65535",
    "http://[::1]:8080/x",
    "http://[::ffff:1.2.3.4]/",
    "http://0x7f.1",
    "http://1.2.3",
    "http://exa%41mple",
    "http://bücher.example/",
    "http://a..b/",
    "foo://a%zz/",
    " https://example.com ",
    "https://example.com/\n",
    "file:///etc/passwd",
    "file://c:/x",
    "http://-a-.com/",
    "http://a_b.com/",
    "http://a*b.com/",
    "ssh://git@github.com:22/x",
    "ws://x:0",
    "http://x:08",
    "https://EXAMPLE.com",
    "http://%2e/",
    "http://1.2.3.4./",
    "http://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/",  # full-width letters map to ASCII
    "http://a\u3002b/",  # an ideographic full stop separates labels
    "http://4294967295",
    "http://0x/",
    "http://user:pa:ss@host/",
    "mailto:a@b",
    "tel:+1",
    "http://a#b",
    "foo:",
    "foo://",
    "file:",
    "file://",
]

# None of these does.
NOT_URLS = [
    "https://exa mple.com",
    "http://",
    "http://user@/",
    "foo://user@",
    "foo://:80",
    "http://:80",
    "http://a:b",
    "http://example.com:65536",
    "http://[::1",
    "http://[fe80::1%25eth0]/",
    "http://1.2.3.256",
    "http://1.2.3.4.5",
    "http://999999999999",
    "http://a.b.0x",
    "http://a.123",
    "http://exa%20mple",
    "http://exa%zzmple",
    "http://xn--/",
    "http://xn--zz/",
    "http://a^b/",
    "foo://a^b/",
    "foo://a b/",
    "file://exa mple/x",
    "1http://x",
    "a b:c",
    "http://a<b.com/",
    "http://a\u00a0b.com/",
    "git+ssh://git@github.com:org/repo.git",
    "http://a.b.c.d.e.1/",
    "http://.1/",
    "http://0.0.0.4294967295/",
    "http://4294967296",
    "http://09/",
    "http://[1:2:3:4:5:6:7:8:9]",
    "http://[::1.2.3.04]",
    "http://a\u0000b/",
    "foo://[::1]x/",
    "foo://a:99999/",
    "http://?x",
    "http://#x",
    "example.com",
    "/docs/index.html",
]


def link_problems(url: str) -> list[str]:
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "payments", "links": [{"url": url}]},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:payments"},
    }
    return validate_entity(document, source="f")


@pytest.mark.parametrize("url", URLS)
def test_a_url_that_browsers_parse_is_a_valid_link(url):
    assert link_problems(url) == []


@pytest.mark.parametrize("url", NOT_URLS)
def test_a_url_that_browsers_refuse_is_refused_naming_the_rule(url):
    (problem,) = link_problems(url)
    assert problem.startswith("f: metadata.links[0].url ")
    assert problem.endswith(
        " is not a valid URL; expected an absolute URL such as https://example.com/docs or mailto:team@example.com"
    )
