"""Found by independent review aud17 (issue 19): two first sends of one address, nobody having proved it, sent by one
drain in
DRAIN_CONCURRENCY threads. The batch path lets only one row of an address read and create the member
(``_build_reads``: "two reads would both find none, and both rows would take the member"); the one-by-one path sent
in threads has no such guard."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due
from tests.storefront.helpers import presses_on_account_page, registered_account

pytestmark = pytest.mark.django_db



@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("concurrency", [1, 8], ids=["control-one-thread", "threads"])
def test_a_strangers_first_send_racing_anns_in_another_thread_does_not_own_her_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, concurrency):
    """Ann's contact (consenting) and an account a stranger registered with Ann's address (consent ticked, never
    activated) are due together; the shop's worker sends contacts in DRAIN_CONCURRENCY threads (a documented
    setting). Each first send reads the member first (first_unproven): both GETs run at once, both find none, both
    rows write the full 'creating' write and record the member as their own (foreign_member False); whichever write
    lands last names the member. The stranger's account then presses Unsubscribe on its account page: its row owns
    the member and its consent made the subscription, so the press is the address's, and Ann is unsubscribed. One
    thread (the control): Ann's send creates her member, the stranger's finds it (another's), and its Unsubscribe
    withdraws its own consent only."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", DRAIN_CONCURRENCY=concurrency)
    emulator, api_key, list_id = mailchimp_account
    email = "ann.race.%d.aud17@fastmail.com" % concurrency
    ann = PersonContact.objects.create(email=email, first_name="Ann", marketing_permission=True)
    ann.add_to_shop(shop)
    user, stranger = registered_account(
        shop, django_user_model, "stranger17r%d" % concurrency, email, first_name="Stranger",
        marketing_permission=True)
    emulator.faults.latency(0.3)  # Mailchimp's usual latency, a little slow: both reads are out at once
    make_all_due()
    drain()
    emulator.faults.latency(0)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed"
    presses_on_account_page(user, subscribe=False)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Ann"), (
        "two first sends raced: both rows own the member (foreign_member: Ann %r, stranger %r); the stranger's "
        "names and Unsubscribe reached Ann's member: %r" % (
            row_of(ann).foreign_member, row_of(stranger).foreign_member,
            (member["status"], member["merge_fields"]["FNAME"])))
