"""Two concurrent creations of one data product through ``dataproduct_create`` on real Git: one succeeds, the other
is a conflict. Apart from test_services_create because the creations run in threads with connections of their own,
so this test commits (``transaction=True``) and its templates are registered for it alone."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from dataproducts.models import DataProduct, DataProductReservation
from dataproducts.services import creation


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creations_of_one_data_product_give_one_success_and_one_conflict(create_dp, alice, monkeypatch):
    barrier = threading.Barrier(2, timeout=30)
    original = creation._reserve

    def reserve_together(draft, *, actor):
        barrier.wait()  # both have passed the existence check: only the reservation row can decide
        return original(draft, actor=actor)

    monkeypatch.setattr(creation, "_reserve", reserve_together)
    outcomes: list[object] = []

    def run():
        try:
            outcomes.append(create_dp(alice))
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["DataProduct", "DataProductConflict"]
    assert DataProduct.objects.count() == 1
    assert DataProductReservation.objects.get().state == "created"
