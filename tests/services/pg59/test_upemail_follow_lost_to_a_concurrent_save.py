"""Found by independent review pg59 (issue 19) of d769789, F3 (fixed: an edit of members left is a compare-and-set on
the entries, read again when a save changed the row; GDPR, PostgreSQL only): an ``upemail`` webhook's move of a member
the contact left (``SyncState.members_left``) is silently lost when the contact's row is recorded by a concurrent save
(any save that queues the row: a profile edit, an order) between ``state.follow_members_left``'s read of the rows and
its compare-and-set UPDATE (``filter(id=row.id, version=row.version).update(members_left=moved)``). On PostgreSQL (READ
COMMITTED) the UPDATE then matches no row and returns 0; nothing retries it and the webhook answers 200 (Mailchimp never
redelivers). The entry keeps the old address; the contact's later erasure (``ErasePlan._delete_member_left``) reads the
old address, finds no member, and leaves the erased person's member, names and all, at its new address for good. (On
SQLite, unverified here, the webhook's write over a snapshot another writer moved fails instead, and Mailchimp
redelivers the webhook.)

Harm: the staff add Cal; Bea registers as "Bea Private" (her member at bea@); Bea types Cal's address into her account:
her member stays at bea@ with her names (members_left). A marketer corrects that member's address in Mailchimp to
bea.old@; the upemail webhook reaches the shop while Bea's row is recorded by a save of hers. Bea has her account
deleted. Her member with "Bea Private" stays in the audience at bea.old@.

Steps (PostgreSQL, ``transaction=True``): aud28 F5's (tests/storefront/test_erasure_of_a_left_member_whose_address_
changed_in_mailchimp.py), with another connection committing ``state.record`` of Bea's row (what her contact's or
order's save does) after the webhook read the rows with members left and before it writes them.

Control (``control-no-concurrent-save``, passes): the same webhook with no save meanwhile: the member at bea.old@ is
permanently deleted by the erasure. Expected in both: no member at bea.old@."""
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from shuup.core.models import get_person_contact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncKind, SyncState
from shoop_mailchimp.sync import state
from tests.helpers import send_due
from tests.services.pg58.helpers import run_inner_on_postgresql
from tests.storefront.conftest import newsletter_block  # noqa: F401
from tests.storefront.helpers import bea_leaves_her_member
from tests.webhooks.helpers import post_event


@pytest.mark.services
@pytest.mark.timeout(600)
def test_upemail_follow_lost_to_a_concurrent_save_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=2)


class Rows(list):
    """The rows as ``state.rows_with_members_left`` read them, before the concurrent save."""

    def only(self, *fields):
        return self

    def values_list(self, field, flat=False):
        return [getattr(row, field) for row in self]


def record_in_another_connection(shop_id, contact_id):
    def run():
        try:
            with transaction.atomic():
                state.record(shop_id, SyncKind.CONTACT, [contact_id])
        finally:
            connection.close()

    saver = threading.Thread(target=run)
    saver.start()
    saver.join(60)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("saved", [False, True], ids=["control-no-concurrent-save", "saved-meanwhile"])
def test_an_erasure_reaches_the_member_left_moved_while_the_contact_was_saved(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block,  # noqa: F811
        monkeypatch, saved):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.pg59f3.%d@fastmail.com" % saved, "cal.pg59f3.%d@fastmail.com" % saved
    corrected = "bea.old.pg59f3.%d@fastmail.com" % saved
    bea_user, _bea = bea_leaves_her_member(shop, django_user_model, "bea59f3%d" % saved, bea_addr, cal_addr,
                                           last_name="Private")
    bea = get_person_contact(bea_user)
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=bea.pk)
    assert any(entry.get("email") == bea_addr for entry in row.members_left), "setup: Bea left her member"
    emulator.fire_event(api_key, list_id, "upemail", bea_addr, source="admin", new_email=corrected)
    assert emulator.get_member(api_key, list_id, corrected)["merge_fields"]["LNAME"] == "Private", "setup"

    original = state.rows_with_members_left

    def interleaved(shop_id, kind):
        rows = Rows(original(shop_id, kind).only("id", "members_left", "version"))
        if saved:
            record_in_another_connection(shop_id, bea.pk)  # Bea's save commits meanwhile
        return rows

    monkeypatch.setattr(state, "rows_with_members_left", interleaved)
    assert post_event(Client(), configuration, "upemail", old_email=bea_addr, new_email=corrected,
                      new_id=subscriber_hash(corrected)).status_code == 200
    monkeypatch.undo()
    after_webhook = [entry.get("email") for entry in SyncState.objects.get(pk=row.pk).members_left]
    send_due(rounds=2)
    get_person_contact(bea_user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, corrected)
    assert member is None, (
        "Bea's erasure left the member she left (now at %s) with her data: %r (the row's members left named %r "
        "after the webhook)" % (corrected, member and (member["status"], member["merge_fields"]), after_webhook))
