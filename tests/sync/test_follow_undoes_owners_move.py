"""Found by independent review aud39 (issue 19) of commit 96f8510, F1 (consent, data; fixed: the follow goes by the move
the row noted before sending, SyncState.move_sent_to): a recovered row's ``may_have_moved`` follow takes any missing
member for a lost move of its own, even when the lost write was no move at all, and moves back a member its owner moved
in Mailchimp."""

import pytest
from django.test import Client
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for
from tests.webhooks.helpers import fired, post_event

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "rename-answer-lost"])
def test_owners_own_address_change_is_not_undone_by_a_recovered_rename(
        shop, configuration, mailchimp_account, settings, lost):
    """Una (consenting) is subscribed at her old address. The shop renames her (no address change): the PUT of her
    names lands but its answer is lost (a read timeout), so since 96f8510 her row is recovered. Before the retry Una
    herself changes her address in Mailchimp's profile page (old -> new); its upemail webhook is late (Mailchimp retries
    a failed delivery for an hour). The retry finds no member at the old address, takes it for a lost move of the shop's
    (no move was ever sent: the lost write was a rename) and PATCHes Una's member from the address she chose back to
    the one she left: her own change in Mailchimp is undone and she is mailed at the address she gave up. Her upemail,
    delivered after, does not bring her member back to her new address. Control: the same without the lost answer (the
    retry is an ordinary one): her member stays at the address she chose."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    old, new = ("una.%s.%d@fastmail.com" % (which, lost) for which in ("old", "new"))
    una = PersonContact.objects.create(first_name="Una", email=old, marketing_permission=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed"
    una.last_name = "Renamed"
    una.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
    else:
        emulator.faults.down()  # never went out: an ordinary retry
    make_all_due()
    drain()
    emulator.release_hangs()
    if lost:
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, old)["merge_fields"]["LNAME"] == "Renamed",
                 "the rename reaching Mailchimp")
    else:
        emulator.faults.up()
    emulator.faults.clear()
    assert row_of(una).status == SyncStatus.PENDING, "setup: the send is retried"
    # Una changes her address in Mailchimp herself; the webhook is late.
    emulator.fire_event(api_key, list_id, "upemail", old, new_email=new)
    moved_at = timezone.now()
    assert emulator.get_member(api_key, list_id, new), "setup: Mailchimp moved her member"
    send_due(rounds=3)
    late = post_event(Client(), configuration, "upemail", fired_at=fired(moved_at), old_email=old, new_email=new,
                      new_id=subscriber_hash(new))
    assert late.status_code == 200
    send_due(rounds=3)
    at_new = emulator.get_member(api_key, list_id, new)
    at_old = emulator.get_member(api_key, list_id, old)
    assert at_new is not None and at_new["status"] == "subscribed", (
        "Una's member is no longer at the address she chose in Mailchimp (%s); at %s: %s" % (
            new, old, at_old and at_old["status"]))
    assert at_old is None or at_old["status"] not in ("subscribed", "pending")
