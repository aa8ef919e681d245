"""Found by independent review aud33 (issue 19), (consent): c102bc7 records a member a send creates with the contact's
consent as made by it (``consent_made(..., created=...)``), so that the address owner's proof while that send is out
leaves the account's Unsubscribe able to end the subscription nobody else asked for (aud28 F2). The same subscription
made by a first send whose answer was lost is not: the proof (``state.proven_anothers``) finds the row's
``member_status`` "" and marks it ``foreign_member`` only; the retry no longer reads the member as an arrival (``owned``
is False: another proved the address), writes it with a PUT (``creating`` False), and ``consent_made`` gives False (the
row "arrives": status before ""). The stranger's Unsubscribe is then "its own consent only" (``withdrawn_own_only_in``)
and the address's owner, who never consented, stays subscribed. Set-up as
tests/storefront/test_proof_while_a_strangers_first_send_is_out.py."""
import pytest
from django.test import Client

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import first_send_answer_lost, make_all_due, row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control-proof-after-the-close", "proof-after-a-lost-answer"])
def test_a_strangers_unsubscribe_ends_the_subscription_its_lost_first_send_made(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, lost):
    """Single opt-in. A stranger registers an account with Ann's address, with consent: its first send creates the
    member subscribed (the stranger's consent alone), but the answer of that write is lost (a timeout). Ann then
    registers her own account with her address and proves it (activation link); she never consents. The stranger's
    send is retried, then the stranger presses Unsubscribe. Expected (the control: no lost answer): the subscription
    only the stranger's consent made ends. Found: Ann's address stays subscribed, though nobody in the shop
    consents."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    emulator, api_key, list_id = mailchimp_account
    email = "ann.aud33.lost.%d@fastmail.com" % lost
    stranger_user, stranger = registered_account(shop, django_user_model, "str33l%d" % lost, email,
                                                 first_name="Stranger", marketing_permission=True)
    if lost:
        first_send_answer_lost(emulator, api_key, list_id, email)
        assert row_of(stranger).status == SyncStatus.PENDING, "setup: the first send is retried"
    else:
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup: the stranger subscribed"
    _ann_user, ann = registered_account(shop, django_user_model, "ann33l%d" % lost, email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.foreign_member, row.opt_in, row.consent_made)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(stranger_user)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "the subscription only the stranger's consent made outlived its Unsubscribe; nobody consents to %s now "
        "(stranger's row before: foreign_member, opt_in, consent_made = %r; page said %r)" % (email, before, messages))
