"""A domain read from a Git repository that Meshforge may read but not write (the tests' ``domains``, outside its
Git root): its page explains where to change it. Apart from the Builder's other page tests, which share
file-located domains across a module (see ``shared_catalog``) that would conflict with these."""

import pytest
from django.conf import settings
from django.urls import reverse

from dataproducts.models import Domain

pytestmark = pytest.mark.django_db


def test_a_domain_in_a_repository_meshforge_cannot_write_is_explained(client, platform_user, domains):
    client.force_login(platform_user)
    response = client.post(
        reverse("dataproducts:domain_edit", args=["marketing"]),
        {"title": "Marketing and sales", "owner_ref": "group:marketing", "parent": ""},
    )

    # a state of the domain, not a failure: a 409 that says where to change it, naming no path of the server
    assert response.status_code == 409
    content = response.content.decode()
    assert "marketing cannot be changed through Meshforge" in content and "change it in Git" in content
    assert "file://" not in content and str(settings.MESHFORGE_GIT_ROOT.parent) not in content
    assert Domain.objects.get(name="marketing").title == "Marketing"
