"""Found by independent review aud33 (issue 19), (consent, data loss): ``ContactPlan._back_at_member_left`` (contact.py)
takes a left member that is subscribed or pending again for the contact's own whenever ``row.attempts`` (or
``recovered``) is set: "this send's own earlier attempt (its answer lost) asked it of the member as it moved back". But
``attempts`` counts *any* failed attempt since the row's last success -- a 503 on the very first read, before the move
back wrote anything -- so a retry after a harmless failure takes the member the mailbox's owner subscribed again on
Mailchimp's own form for the contact's: its names go over hers, its Unsubscribe ends her subscription. The same steps
without the failure (the control, as tests/storefront/test_move_back_to_a_left_member_its_owner_resubscribed.py) leave
Olga's member hers."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due
from tests.storefront.helpers import olga_subscribes_it_again, types_it_back_and_unsubscribes
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("failed", [False, True], ids=["control", "first-attempt-failed-before-writing"])
def test_a_move_back_retried_after_a_failed_read_leaves_the_owners_resubscribed_member_hers(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, failed):
    """Sam registers at sam@ and subscribes. Ann registered and proved her address; Sam types Ann's address: his member
    at sam@ is archived and remembered. Olga, who owns the mailbox sam@, subscribes on Mailchimp's own form and types
    "Olga Real". Sam types sam@ again; the first attempt of that send gets a 503 on its first request (nothing
    written); the retry succeeds. Later Sam presses Unsubscribe on his account page. Expected (the control, no 503):
    Olga's names and subscription stay. Found: after the 503 the retry takes Olga's member for Sam's own (row.attempts
    is 1), writes "Sam Private" over her names and Sam's Unsubscribe unsubscribes her."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, _browser, own, _ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                                 "aud33f%d" % failed, True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived", "setup"
    olga_subscribes_it_again(mailchimp_account, own)

    def first_attempt_fails(sam):
        emulator.faults.fail("*/members/*", status=503, times=1)  # the first request of the send: nothing written
        make_all_due()
        drain()
        emulator.faults.clear()
        row = row_of(sam)
        assert row.status == SyncStatus.PENDING and row.attempts, "setup: the send is retried"
        member = emulator.get_member(api_key, list_id, own)
        assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Olga"), "setup: nothing written"

    names, member = types_it_back_and_unsubscribes(user, own, mailchimp_account,
                                                   first_attempt_fails if failed else None)
    assert (member["status"], names["FNAME"], names["LNAME"]) == ("subscribed", "Olga", "Real"), (
        "Sam's move back to %s, retried after a 503 that wrote nothing, took the member Olga subscribed on "
        "Mailchimp's form for his own: its names after his move %r, its status after his Unsubscribe %r" % (
            own, (names["FNAME"], names["LNAME"]), member["status"]))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("failed", [False, True], ids=["control", "first-attempt-failed-before-writing"])
def test_an_erasure_after_a_move_back_retried_after_a_failed_read_keeps_the_owners_member(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, failed):
    """As above; after typing sam@ again (its first attempt a 503 that wrote nothing), Sam has his account deleted (GDPR
    erasure). Expected (the control): Olga's subscription, made on Mailchimp's own form, stays. Found: the retry made
    the member the row's own, so the erasure deletes it for good (Mailchimp never lets the API add her again)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, _browser, own, _ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                                 "aud33e%d" % failed, True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived", "setup"
    emulator.fire_event(api_key, list_id, "subscribe", own)
    send_due(rounds=2)
    sam = PersonContact.objects.get(pk=get_person_contact(user).pk)
    sam.email = own
    sam.save()
    if failed:
        emulator.faults.fail("*/members/*", status=503, times=1)
        make_all_due()
        drain()
        emulator.faults.clear()
        assert row_of(sam).attempts and emulator.get_member(api_key, list_id, own)["status"] == "subscribed", "setup"
    send_due(rounds=3)
    PersonContact.objects.get(pk=sam.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["status"] == "subscribed", (
        "Sam's erasure deleted the subscription Olga made on Mailchimp's own form for %s: %r" % (own, member))
