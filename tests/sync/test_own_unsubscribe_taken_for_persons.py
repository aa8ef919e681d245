"""Found by independent review aud39 (issue 19) of commit 96f8510, F2 (consent, data; fixed: the shop's own unsubscribe
is recorded on the row when a later step fails): a move off an address shared with a non-consenting contact unsubscribes
the member left there (the consent leaves with the contact) and then writes the contact's own member at its new address.
When that second write fails and the shop puts the address back before the retry, the retry takes the shop's own
unsubscribe for the person's and withdraws their marketing permission in the shop."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("fault", ["none", "creation-refused", "creation-answer-lost"])
def test_the_shops_own_unsubscribe_of_a_member_left_is_not_taken_for_the_persons(
        shop, configuration, mailchimp_account, settings, fault):
    """Ed (consenting) is subscribed at his address; his partner Pat (no consent) is a contact with the same address.
    Ed mistypes his address in the shop: the send unsubscribes the member at the shared address (none of its other
    contacts consents: Ed's consent leaves with him) and writes Ed a member of his own at the mistyped address. That
    write fails (a 503 answer, or it lands and its answer is lost). The failed attempt records nothing of the
    unsubscribe it made of the member at Ed's old address (his row still says "subscribed" there). Ed corrects his
    address before the retry.
    - creation-refused: the retry finds the member unchanged to its eyes (the fingerprint of the shared address) and
      writes nothing: Ed, consenting, stays unsubscribed in Mailchimp while his row says subscribed (never mailed).
    - creation-answer-lost (since 96f8510 a recovered row, always written): the write's answer shows the member
      unsubscribed, taken for Ed's own unsubscribe in Mailchimp ("Mailchimp reports this person unsubscribed"): Ed's
      marketing permission is withdrawn in the shop though he never unsubscribed (and the member at the mistyped
      address, a stranger's mailbox, stays subscribed).
    Control ("none"): the write answered, Ed corrected: he keeps his consent, and his member is subscribed or (double
    opt-in, back at the member he left) pending."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    shared, typo = ("%s.%s@fastmail.com" % (which, fault) for which in ("home.aud39w", "hoem.aud39w"))
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
    if fault == "none":
        send_due(rounds=2)
    else:
        if fault == "creation-refused":
            emulator.faults.fail("*/members", status=503, method="POST", times=1)
        else:
            emulator.faults.hang(60, path_pattern="*/members", times=1, method="POST")  # its creating write
        make_all_due()
        drain()
        emulator.release_hangs()
        if fault == "creation-answer-lost":
            wait_for(emulator, lambda: emulator.get_member(api_key, list_id, typo), "the write reaching Mailchimp")
        emulator.faults.clear()
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == shared, "setup: the write failed"
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = shared
    ed.save()
    send_due(rounds=4)
    assert row_of(ed).status == SyncStatus.SYNCED
    ed = PersonContact.objects.get(pk=ed.pk)
    at_shared = emulator.get_member(api_key, list_id, shared)["status"]
    assert ed.marketing_permission is True, (
        "Ed's consent was withdrawn in the shop (he never unsubscribed); member at %s: %s" % (shared, at_shared))
    assert at_shared in ("subscribed", "pending"), (  # pending: back at the member it left, its owner confirms
        "Ed consents, his row says %s, and his member at %s is %s (the shop's own unsubscribe of the failed attempt)"
        % (row_of(ed).member_status, shared, at_shared))
