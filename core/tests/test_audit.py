"""Audit events: written by services inside the transaction of the change they describe."""

import pytest
from django.db import transaction

from core.models import AuditEvent
from core.services import audit_record


def test_an_audit_event_outside_a_transaction_is_refused(transactional_db, alice):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=alice, action="thing.change")
    assert not AuditEvent.objects.exists()


def test_an_audit_event_rolls_back_with_its_change(transactional_db, alice):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=alice, action="thing.change", obj=alice, after={"x": 1})
        1 / 0  # noqa: B018 - the change fails after the event was written
    assert not AuditEvent.objects.exists()


def test_an_audit_event_records_actor_object_and_states(alice, bob):
    with transaction.atomic():
        event = audit_record(actor=alice, action="user.rename", obj=bob, before={"n": "b"}, after={"n": "bob"})
    event.refresh_from_db()
    assert (event.actor_name, event.action, event.object_id, event.object_repr) == (
        "alice",
        "user.rename",
        str(bob.pk),
        "bob",
    )
    assert event.object_type.model_class() is type(bob)
    assert (event.before, event.after) == ({"n": "b"}, {"n": "bob"})


def test_system_actions_are_recorded_without_an_actor(db):
    with transaction.atomic():
        event = audit_record(actor=None, action="demo.seed")
    assert event.actor is None
    assert event.actor_name == "system"


def test_staff_browse_audit_events_in_the_admin_but_cannot_change_them(client, platform_user, alice):
    with transaction.atomic():
        event = audit_record(actor=alice, action="thing.change")
    client.force_login(platform_user)
    assert client.get("/admin/core/auditevent/").status_code == 200
    assert client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
