"""Found by independent review pg58 (issue 19) of dcc101d, F3 (open, a strict expected failure; erasure): a contact
deleted while Initialize moves the shop to another audience, after ``initialization._erase_in_old_audience`` took its
snapshot of the erasures not sent (``contact.erasures_not_sent``) and before ``sync/state.py: forget_audience`` forgets
the rows' addresses, is never erased in the old audience: the forget clears the erasure row's address (and members
left), so the erasure, sent later by the worker, finds no member anywhere; the old audience keeps the erased person's
member, names and consent. Between the two steps Initialize makes its HTTP calls (the store, the webhook, the interests,
the merge fields): seconds, on any shop.

Harm: Lena was sent to the old audience (subscribed, her names there). The shop is moved to a new audience; while the
worker runs Initialize, the staff delete Lena's contact (a GDPR erasure request). The erasure is recorded, and the
shop's log never says it was dropped, but Lena's member with her data stays in the old audience for good.

Steps (PostgreSQL, the deletion committed by another connection in a thread): a shop connected with Lena; disconnect
deleting the store; a new audience; Initialize with it (the worker runs the job, then drains). Lena's contact is deleted
(a) before Initialize (the control: the case tests/disconnect/test_another_audience.py covers), (b) while Initialize
runs, after its erasure snapshot, before the rows are forgotten. Expected in both: no member of Lena's in the old
audience. Found: (b) leaves it subscribed with her names."""
import threading

import pytest
from django.db import connection
from shuup.core.models import PersonContact

from shoop_mailchimp.sync import state
from tests.admin.conftest import post_shop_form
from tests.disconnect.conftest import connected  # noqa: F401
from tests.disconnect.helpers import disconnect_and_delete_the_store, work_rounds
from tests.helpers import new_person
from tests.services.pg58.helpers import run_inner_on_postgresql

#: Review pg58 F3 (a strict expected failure until fixed).
OPEN = pytest.mark.xfail(strict=True, reason=(
    "pg58 F3, open: Initialize forgets the erasures recorded after its pass over the old audience"))


@pytest.mark.services
@pytest.mark.timeout(600)
def test_erasure_recorded_while_initialize_moves_audience_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=1, expected_xfailed=1)


def _delete_in_another_connection(contact_id):
    """The staff delete the contact in the admin, in a transaction of its own that commits."""
    def delete():
        try:
            PersonContact.objects.get(pk=contact_id).delete()
        finally:
            connection.close()

    thread = threading.Thread(target=delete)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("when", ["before-initialize-control", pytest.param("while-initialize-runs", marks=OPEN)])
def test_a_contact_deleted_while_initialize_moves_the_shop_is_erased_in_the_old_audience(
        admin_client, connected, mailchimp_account, monkeypatch, when):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    emulator, api_key, list_id = mailchimp_account
    lena = new_person(email="lena.erased.pg58@fastmail.com", first_name="Lena", last_name="Erased")
    work_rounds()
    assert emulator.get_member(api_key, list_id, lena.email)["status"] == "subscribed", "setup"
    disconnect_and_delete_the_store(admin_client, connected, emulator)
    if when == "before-initialize-control":
        _delete_in_another_connection(lena.pk)
    original = state.forget_audience

    def forgetting(*args, **kwargs):
        if when == "while-initialize-runs":
            # Initialize read the erasures not sent before its HTTP calls; the rows' UPDATEs are about to run.
            _delete_in_another_connection(lena.pk)
        return original(*args, **kwargs)

    monkeypatch.setattr(state, "forget_audience", forgetting)
    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    work_rounds()
    work_rounds()
    assert not PersonContact.objects.filter(pk=lena.pk).exists(), "setup: deleted"
    left = emulator.get_member(api_key, list_id, lena.email)
    assert left is None, "Lena's contact was deleted, and the old audience keeps her member: %s %s" % (
        left["status"], left["merge_fields"])
