"""Found by independent review aud38 (issue 19), F1, F2 (consent; both fixed): a first send retried
after a lost answer, at an address its owner proved meanwhile, whose contact withdrew (and gave again) its consent
before the retry: the subscription its lost attempt created is not recorded as its consent's, and its Unsubscribe
leaves the owner's address subscribed. ``consented_from_the_first_claim`` cannot tell what the lost attempt carried
(F1 came with it, 4883ede; F2 before); telling needs a marker the attempt's write leaves on the member.

F2 (withdrawn before the retry) is fixed since a write whose answer never came leaves its row recovered, as a dead
worker's (``Outcome.in_doubt``): the retry sends the withdrawal the lost attempt may have needed. F1 is fixed since
the row notes, before a send goes out, whether it carries the contact's consent (``SyncState.consent_unanswered``): the
retry counts the subscription its lost attempt created as this contact's consent's whatever the consent did since."""
import pytest
from django.test import Client

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncStatus
from tests.helpers import first_send_answer_lost, row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("regiven", [False, True, None],
    ids=["control-consent-untouched", "withdrawn-and-given-again", "withdrawn-before-the-retry"])
def test_strangers_unsubscribe_ends_the_subscription_its_lost_attempt_made_after_consent_regiven(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, regiven):
    """Harm (consent): Ann, who proved the address hers and never consented, stays subscribed after the only
    consenting contact (a stranger with her address) pressed Unsubscribe.

    Steps (single opt-in): a stranger registers an account with Ann's address, consent given; its first send creates
    the member *subscribed*, the answer is lost (timeout): the row stays a first send. The stranger presses
    Unsubscribe and then Subscribe again on the account page (nothing sent in between: the row waits its retry),
    so ``consent_changed_at`` is later than ``first_claimed_at``. Ann registers and proves the address. The retried
    first send (``proven_by_another``, ``retried_first_send``) reads the member created by its own lost attempt, but
    ``consented_from_the_first_claim`` (contact.py) is False, so ``created_earlier`` / ``consent_made`` stay False.
    The stranger's Unsubscribe is then "its own consent only" and the subscription its own lost attempt made stays
    on Ann's address. Control: consent untouched: the press ends it."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    configuration.double_opt_in = False
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.aud38.rg.%s@fastmail.com" % regiven
    stranger_user, stranger = registered_account(shop, django_user_model, "str38r%s" % regiven, email,
                                                 first_name="Stranger", marketing_permission=True)
    first_send_answer_lost(emulator, api_key, list_id, email)
    assert row_of(stranger).status == SyncStatus.PENDING, "setup: the first send is retried"
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(stranger_user)
    if regiven is None:
        choose(browser, subscribe=False)
        row = row_of(stranger)
        assert row.status == SyncStatus.PENDING and not row.member_status, "setup: still a first send"
    if regiven:
        choose(browser, subscribe=False)
        choose(browser, subscribe=True)
        row = row_of(stranger)
        assert row.consent_changed_at and row.consent_changed_at > row.first_claimed_at, "setup"
        assert row.status == SyncStatus.PENDING and not row.member_status, "setup: still a first send"
    _ann_user, ann = registered_account(shop, django_user_model, "ann38r%s" % regiven, email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.email, row.member_status, row.foreign_member, row.opt_in, row.consent_made)
    messages = page_messages(choose(browser, subscribe=False)) if regiven is not None else []
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status == "unsubscribed", (
        "Ann never consented; the stranger withdrew; the subscription its lost attempt made is %s "
        "(stranger's row before the press: email, member_status, foreign_member, opt_in, consent_made = %r; page "
        "said %r)" % (status, before, messages))
