"""Where the edit page puts its answer (issue 11): after Preview the diff comes first, above the identity and the
long form, with its heading marked for static/js/edit.js to focus; the page loads its scripts from static files
only (the Content-Security-Policy refuses inline ones)."""

from __future__ import annotations

import pytest

from dataproducts.tests.test_views_edit import UNCHANGED, cashflow, edit_url, editor, opened, shared_repo  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


def test_the_diff_comes_before_the_form_and_its_heading_takes_the_focus(editor, cashflow):  # noqa: F811
    base = opened(editor, edit_url())

    content = editor.post(edit_url(), UNCHANGED | {"s0-title": "Cash flow v2", "base_revision": base}).content.decode()

    assert content.index('id="diff-title"') < content.index('id="identity-title"') < content.index("edit-form")
    assert '<h2 id="diff-title" tabindex="-1" data-focus-on-load>Changes to catalog-info.yaml</h2>' in content
    assert 'src="/static/js/edit.js"' in content and 'src="/static/js/table-rules.js"' in content


def test_the_form_alone_has_no_result_to_focus(editor, cashflow):  # noqa: F811
    content = editor.get(edit_url()).content.decode()

    assert "data-focus-on-load" not in content
