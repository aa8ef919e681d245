"""The ``commits`` fixture (tests/conftest.py): on-commit callbacks run as a real commit would run them."""
import pytest
from django.db import transaction

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
def test_a_callback_outside_any_block_runs_at_once():
    ran = []
    transaction.on_commit(lambda: ran.append("now"))
    assert ran == ["now"]


@pytest.mark.usefixtures("commits")
def test_a_callback_runs_when_the_outermost_block_ends_not_before():
    ran = []
    with transaction.atomic():
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("inner"))
        assert ran == [], "an inner block is no commit"
        transaction.on_commit(lambda: ran.append("outer"))
        assert ran == []
    assert ran == ["inner", "outer"]


@pytest.mark.usefixtures("commits")
def test_a_callback_of_a_rolled_back_block_never_runs():
    ran = []
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("the block fails")
    with transaction.atomic():
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                transaction.on_commit(lambda: ran.append("savepoint rolled back"))
                raise RuntimeError("the block fails")
        transaction.on_commit(lambda: ran.append("kept"))
    assert ran == ["kept"]


@pytest.mark.usefixtures("commits")
def test_a_callback_that_commits_runs_the_callbacks_of_its_own_blocks():
    ran = []

    def first():
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("second"))
        ran.append("first done")

    with transaction.atomic():
        transaction.on_commit(first)
    assert ran == ["second", "first done"]


def test_without_the_fixture_no_callback_runs_in_the_tests_transaction():
    """What the fixture is for: in a plain ``django_db`` test nothing ever commits."""
    ran = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("never"))
    assert ran == []
