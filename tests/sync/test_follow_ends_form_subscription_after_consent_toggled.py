"""Found by independent review aud41 (issue 19) of 030f1c5, F2 (consent; fixed as F1); (item 2:
``_follow_lost_move`` unsubscribes the followed member at an address other contacts have when ``row.opt_in or
consent_changed_since_sent(row)``). Any consent change after the row's last send counts as "carried by the lost
attempt", also one made after that attempt (and a withdrawal): the time of the lost attempt (its claim) is never
compared. A contact that never consented ends the subscription that the address's owner made on Mailchimp's own
form."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncKind, SyncState
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


def _save(contact, **fields):
    contact = PersonContact.objects.get(pk=contact.pk)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save()
    return contact


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("toggled", [False, True], ids=["control", "consent-ticked-and-unticked"])
def test_a_never_consenting_contacts_lost_move_does_not_end_the_form_subscription_at_its_address(
        shop, configuration, mailchimp_account, settings, toggled):
    """Ed (no consent) is a transactional member. His address is changed to a mistyped one (Yann's mailbox): the send
    PATCHes his member there; it lands, its answer is lost (a timeout), the move is noted (``move_sent_to``). Yann
    registers with his own address (the shop leaves the member, not his, alone) and subscribes on Mailchimp's own
    form: the member there is subscribed by Yann himself. Afterwards the staff tick Ed's consent box by mistake and
    untick it again (``toggled``; nothing is sent in between), then correct Ed's address back. The retry follows the
    lost move to Yann's address; Ed's row never sent a consent (``opt_in`` False), but its consent "changed since its
    last send", so the follow takes the subscription for Ed's consent carried by the lost attempt (which was over
    before the box was ever ticked) and, Yann not consenting in the shop, unsubscribes the member: Yann's own form
    subscription is ended by a contact who never consented. Control: without the toggle it stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    eds, yanns = ("%s.%d@fastmail.com" % (which, toggled) for which in ("ed.aud41", "yann.aud41"))
    ed = PersonContact.objects.create(first_name="Ed", email=eds, marketing_permission=False)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, eds)["status"] == "transactional"
    ed = _save(ed, email=yanns)
    emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PATCH")
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, yanns), "the move reaching Mailchimp")
    emulator.faults.clear()
    row = row_of(ed)
    assert (row.email, row.move_sent_to) == (eds, yanns), "setup: the move's answer was lost"
    yann = PersonContact.objects.create(first_name="Yann", email=yanns, marketing_permission=False)
    emulator.fire_event(api_key, list_id, "subscribe", yanns)
    assert post_event(Client(), configuration, "subscribe", email=yanns).status_code == 200
    assert emulator.get_member(api_key, list_id, yanns)["status"] == "subscribed"
    if toggled:
        _save(ed, marketing_permission=True)
        _save(ed, marketing_permission=False)
    _save(ed, email=eds)
    send_due(rounds=4)
    at_yanns = emulator.get_member(api_key, list_id, yanns)
    ed_row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=ed.pk)
    assert at_yanns is not None and at_yanns["status"] == "subscribed", (
        "Yann's own form subscription at %s is %s after Ed (never consenting) was sent (Ed's row: %s, opt_in=%s)" % (
            yanns, at_yanns and at_yanns["status"], ed_row.email, ed_row.opt_in))
    assert not PersonContact.objects.get(pk=yann.pk).marketing_permission
