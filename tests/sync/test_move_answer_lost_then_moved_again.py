"""Found by the PostgreSQL chaos run (CI, seed 571248: ``c10.e113@fastmail.com`` subscribed, no contact of the shop
with that address): a move whose answer was lost, then another address change before its retry, left the contact's
subscribed member at the address in between, which the shop no longer has and never sends again."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, move_answer_lost, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("back", [False, True], ids=["to-a-third", "back-to-the-first"])
@pytest.mark.parametrize("lost", [False, True], ids=["control", "move-answer-lost"])
def test_a_move_whose_answer_was_lost_is_followed_by_the_next_move(
        shop, configuration, mailchimp_account, settings, lost, back):
    """Ed (consenting) is subscribed at his first address. The shop changes it to a second: the send reads his member
    there and PATCHes it to the second; the PATCH lands, its answer is lost (a worker killed, a timeout), and the row
    still names the first. Before the retry the shop changes it again, to a third. The retry finds no member at the
    first address and wrote a new one at the third: his member at the second stayed subscribed, an address the shop
    no longer has (he is mailed twice, and his later unsubscribe reaches only one). Control: the same without the
    lost answer."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    first, second, third = ("ed.%s.%d%d@fastmail.com" % (which, lost, back) for which in ("first", "second", "third"))
    third = first if back else third
    ed = PersonContact.objects.create(first_name="Ed", email=first, marketing_permission=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, first)["status"] == "subscribed"
    ed.email = second
    ed.save()
    move_answer_lost(mailchimp_account, second, lost)
    if lost:
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == first
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = third
    ed.save()
    send_due(rounds=3)
    assert row_of(ed).status == SyncStatus.SYNCED and row_of(ed).email == third
    assert emulator.get_member(api_key, list_id, third)["status"] == "subscribed"
    left = emulator.get_member(api_key, list_id, second)
    assert left is None or left["status"] not in ("subscribed", "pending"), (
        "Ed's member at %s, an address the shop no longer has, stays %s" % (second, left["status"]))


@pytest.mark.usefixtures("commits")
def test_a_move_is_noted_on_its_row_before_it_goes_out_and_forgotten_once_it_landed(
        shop, configuration, mailchimp_account, settings):
    """A worker killed while its move is out leaves no answer and no close: what the retry knows of the move is what
    the row noted before the request went out (``move_sent_to``; here the PATCH's answer is lost, and the in-doubt
    close keeps the note), cleared once the row learns where the member is."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    ed = PersonContact.objects.create(first_name="Ed", email="ed.noted.old@fastmail.com", marketing_permission=True)
    send_due(rounds=2)
    assert row_of(ed).move_sent_to == ""
    ed.email = "ed.noted.new@fastmail.com"
    ed.save()
    emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PATCH")
    make_all_due()
    drain()
    emulator.release_hangs()
    emulator.faults.clear()
    row = row_of(ed)
    assert row.status == SyncStatus.PENDING and row.email == "ed.noted.old@fastmail.com"
    assert row.move_sent_to == "ed.noted.new@fastmail.com"
    send_due(rounds=2)
    row = row_of(ed)
    assert row.status == SyncStatus.SYNCED and row.email == "ed.noted.new@fastmail.com" and row.move_sent_to == ""
    assert emulator.get_member(api_key, list_id, "ed.noted.old@fastmail.com") is None
