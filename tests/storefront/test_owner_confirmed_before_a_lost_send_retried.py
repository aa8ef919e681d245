"""Found by independent review aud36 (issue 19), F3 (consent; fixed: the row notes the status a send asks by consent
before it goes out, ``SyncState.consent_unanswered``, and the retry compares the member's with it): a first send retried
after a lost answer, at an address the owner proved and confirmed meanwhile (double opt-in, the ``subscribe`` webhook
lost), records the owner's subscription as made by the stranger's consent. A fix comparing the member's status with this
send's (ed139d8) was wrong both ways (aud37 F2: an audience switched to double opt-in meanwhile, an unconsented first
attempt) and was withdrawn; telling needs what the lost attempt asked for, which the row does not keep."""
import pytest
from django.test import Client

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncStatus
from tests.helpers import first_send_answer_lost, row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("confirmed", [False, True],
    ids=["control-never-confirmed", "owner-confirmed"])
def test_a_strangers_unsubscribe_ends_the_subscription_the_owner_confirmed(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, confirmed):
    """Harm (consent): Ann, who proved the address hers and confirmed Mailchimp's link herself, is unsubscribed by a
    stranger's Unsubscribe press (an account someone registered with her address).

    Steps (double opt-in): a stranger registers an account with Ann's address, consent given; its first send creates the
    member *pending* (Mailchimp mails Ann a link), but the write's answer is lost (a timeout): the row stays a first
    send. Ann registers her own account and proves the address (activation link), then clicks Mailchimp's confirmation
    link: the member is subscribed by her confirmation (the ``subscribe`` webhook's delivery fails; delivered, it would
    have given the stranger's row ``member_status`` and spared it). The stranger's first send is retried:
    ``proven_by_another`` and ``retried_first_send``: it reads the member (status *subscribed*, though its lost attempt
    could only have asked *pending*), and its ``timestamp_signup`` is the lost attempt's, so ``created_earlier`` makes
    ``consent_made`` True (``consent_made(..., created=True)`` asks only for a status in CONSENTED). The stranger
    presses Unsubscribe: not "its own consent only" (``withdrawn_own_only_in``: consent_made), so the UNSUBSCRIBE ends
    Ann's subscription. Control: Ann never confirms: the stranger's press ends the pending request its consent made, as
    it should."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    configuration.double_opt_in = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.aud36.dbl.%d@fastmail.com" % confirmed
    stranger_user, stranger = registered_account(shop, django_user_model, "str36d%d" % confirmed, email,
                                                 first_name="Stranger", marketing_permission=True)
    first_send_answer_lost(emulator, api_key, list_id, email)
    assert row_of(stranger).status == SyncStatus.PENDING, "setup: the first send is retried"
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending", "setup: the link mailed to Ann"
    _ann_user, ann = registered_account(shop, django_user_model, "ann36d%d" % confirmed, email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    if confirmed:
        # Ann clicks Mailchimp's confirmation link (no webhook is registered: the shop does not hear of it).
        emulator.fire_event(api_key, list_id, "subscribe", email)
        assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.email, row.member_status, row.foreign_member, row.opt_in, row.consent_made)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(stranger_user)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, email)["status"]
    expected = "subscribed" if confirmed else "unsubscribed"
    assert status == expected, (
        "Ann %s; after the stranger's Unsubscribe the member is %s (stranger's row before: email, member_status, "
        "foreign_member, opt_in, consent_made = %r; page said %r)" % (
            "confirmed the subscription herself" if confirmed else "never confirmed", status, before, messages))
