"""core.bulk: COPY-based inserts and updates behave as the ORM's bulk_create and an UPDATE of each row would."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DataError, IntegrityError, transaction

from core.bulk import copy_create, copy_insert, copy_rows, update_rows

User = get_user_model()


def test_copy_create_gives_ids_and_writes_defaults_as_bulk_create(db):
    users = [User(username=f"user-{index}", first_name="Ann" if index else "") for index in range(3)]

    copy_create(users, with_ids=True)

    stored = {user.pk: user for user in User.objects.filter(username__startswith="user-")}
    assert sorted(stored) == sorted(user.pk for user in users)
    for user in users:
        row = stored[user.pk]
        assert (row.username, row.first_name) == (user.username, user.first_name)
        assert (row.is_active, row.last_login) == (True, None)
        assert row.date_joined == user.date_joined  # the field's default, written as given
        assert not user._state.adding


def test_copy_create_without_ids_leaves_them_unread(db):
    groups = [Group(name="one"), Group(name="two")]

    copy_create(groups)

    assert sorted(Group.objects.values_list("name", flat=True)) == ["one", "two"]
    assert [group.pk for group in groups] == [None, None]


def test_copy_insert_fills_the_fields_a_row_leaves_out_with_their_defaults(db):
    copy_insert(User, [{"username": "dora", "password": "!"}, {"username": "eve", "password": "!", "is_active": False}])

    rows = User.objects.order_by("username").values_list("username", "first_name", "is_active", "date_joined")
    assert [row[:3] for row in rows] == [("dora", "", True), ("eve", "", False)]
    assert all(row[3] is not None for row in rows)


def test_copy_failures_are_djangos_database_errors(db):
    User.objects.create(username="taken")

    with pytest.raises(IntegrityError), transaction.atomic():
        copy_create([User(username="taken")], with_ids=True)
    with pytest.raises(DataError), transaction.atomic():
        copy_rows(Group, ["name"], [("x" * 151,)])


def test_update_rows_writes_the_fields_of_each_object_and_refuses_a_value_too_long(db):
    users = [User.objects.create(username=name) for name in ("a", "b", "c")]
    users[0].first_name, users[1].first_name, users[1].is_staff = "Ann", "Bob", True

    update_rows(users[:2], ["first_name", "is_staff"])

    assert list(User.objects.order_by("username").values_list("first_name", "is_staff")) == [
        ("Ann", False),
        ("Bob", True),
        ("", False),
    ]
    users[2].first_name = "x" * 151  # over max_length: refused, never cut
    with pytest.raises(DataError), transaction.atomic():
        update_rows(users[2:], ["first_name"])
    users[2].first_name = "Cy"
    update_rows(users[2:], ["first_name"])  # nothing of the failed call is left in the way
    update_rows(users[2:], ["first_name"])
    assert User.objects.get(username="c").first_name == "Cy"
