"""Found by independent review aud39 (issue 19), F3 (consent; fixed: a member the lost attempt created there, known by
its signup time, is archived): the follow looks for the row's own member by its ``unique_email_id``; a lost write that
*created* the contact's member at its new address (the old one left to another contact) made a member with another id,
and a change of address back before the retry leaves it subscribed at an address no contact has."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "creation-answer-lost"])
def test_a_member_created_at_a_mistyped_address_does_not_stay_subscribed_there(
        shop, configuration, mailchimp_account, settings, lost):
    """Ed (consenting) is subscribed at his address; his partner Pat (no consent) is a contact with the same address.
    Ed mistypes his address in the shop (a stranger's mailbox): the member at the shared address stays (Pat's too) and
    the send writes Ed a member of his own at the mistyped address, subscribed; that write lands, its answer is lost (a
    timeout). Ed corrects his address before the retry. The retry (recovered, no address change to its eyes) finds a
    member at Ed's address and writes there; the member its lost write created at the mistyped address stays
    subscribed: the stranger owning that mailbox gets the newsletter without consent, and no contact of the shop will
    ever send to that address again (the chaos run's seed 571248 harm, by a created member instead of a moved one).
    Control: the write answered, the correction moves or unsubscribes the member at the mistyped address."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    shared, typo = ("%s.%d@fastmail.com" % (which, lost) for which in ("home.aud39c", "hoem.aud39c"))
    ed = PersonContact.objects.create(first_name="Ed", email=shared, marketing_permission=True)
    ed.add_to_shop(shop)
    send_due(rounds=2)
    pat = PersonContact.objects.create(first_name="Pat", email=shared, marketing_permission=False)
    pat.add_to_shop(shop)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, shared)["status"] == "subscribed"
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = typo
    ed.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members", times=1, method="POST")  # its creating write
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, typo), "the write reaching Mailchimp")
        emulator.faults.clear()
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == shared, "setup: the answer was lost"
    else:
        send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, typo)["status"] == "subscribed", "setup: Ed's member at the typo"
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = shared
    ed.save()
    send_due(rounds=4)
    assert row_of(ed).status == SyncStatus.SYNCED
    at_typo = emulator.get_member(api_key, list_id, typo)
    assert at_typo is None or at_typo["status"] not in ("subscribed", "pending"), (
        "the member Ed's send created at the mistyped address %s stays %s (a stranger's mailbox)" % (
            typo, at_typo["status"]))
    # Ed's data stays at the typo's member (archived, or left there by the answered path): his erasure deletes it.
    ed.delete()
    send_due(rounds=4)
    assert emulator.get_member(api_key, list_id, typo) is None, "Ed's erasure left his member at %s" % typo
