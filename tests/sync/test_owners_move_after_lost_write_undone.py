"""Found by independent review aud40 (issue 19), F3 (consent; fixed: an answered move is recorded when a later step
fails), of 96f8510/2cff9ca: a move whose member PATCH was answered but whose next write's answer was lost leaves the row
naming the old address (and ``shop_email`` the old shop address, ``move_sent_to`` the new one). The person then changes
their address in Mailchimp themselves and the upemail is heard at once: the row takes Mailchimp's address, but its
``shop_email`` is not the contact's, so the retry does not see the address as Mailchimp's (``address_from_mailchimp``)
and moves the member back to the shop's address, undoing the person's own change."""
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
@pytest.mark.parametrize("lost", [False, True], ids=["control", "write-answer-lost"])
def test_owners_own_address_change_after_a_lost_write_is_not_undone(
        shop, configuration, mailchimp_account, settings, lost):
    """Una (consenting) is subscribed at her old address and changes it in the shop to her work address: the send
    PATCHes her member there (answered) and then PUTs it; the PUT lands, its answer is lost (a read timeout), so the row
    is recovered and still names the old address. Una then changes her address in Mailchimp's profile page from the work
    address to her private one; its upemail webhook is heard at once (the row now names the private address, but its
    ``shop_email`` is still the old one: the answered PATCH was never recorded). The retry moves her member from the
    address she chose back to the work one she gave up: her own change in Mailchimp is undone. Control: the same with
    the PUT answered: her member stays at the address she chose (the shop keeps addressing Mailchimp's)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    old, work, private = ("una.%s.%d@fastmail.com" % (which, lost) for which in ("old40", "work40", "priv40"))
    una = PersonContact.objects.create(first_name="Una", email=old, marketing_permission=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed"
    una.email = work
    una.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, work), "the move reaching Mailchimp")
        emulator.faults.clear()
        assert row_of(una).status == SyncStatus.PENDING, "setup: the send is retried"
    else:
        send_due(rounds=2)
        assert row_of(una).status == SyncStatus.SYNCED and row_of(una).email == work
    assert emulator.get_member(api_key, list_id, work)["status"] == "subscribed"
    emulator.fire_event(api_key, list_id, "upemail", work, new_email=private)
    moved_at = timezone.now()
    assert emulator.get_member(api_key, list_id, private), "setup: Mailchimp moved her member"
    heard = post_event(Client(), configuration, "upemail", fired_at=fired(moved_at), old_email=work,
                       new_email=private, new_id=subscriber_hash(private))
    assert heard.status_code == 200
    assert row_of(una).email == private, "setup: the upemail was applied to her row"
    send_due(rounds=4)
    at_private = emulator.get_member(api_key, list_id, private)
    at_work = emulator.get_member(api_key, list_id, work)
    assert at_private is not None and at_private["status"] == "subscribed", (
        "Una's member is no longer at the address she chose in Mailchimp (%s); at %s: %s" % (
            private, work, at_work and at_work["status"]))
