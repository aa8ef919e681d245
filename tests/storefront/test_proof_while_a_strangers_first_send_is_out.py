"""Found by independent review aud28 (issue 19), F2 (consent): ``state.proven_anothers`` (``shop_consent.record_proof``:
the address's owner clicked the activation link) marks ``consent_made`` only on other rows of the address whose
``opt_in`` is True and whose member is subscribed or pending *as the row says now*. A stranger's account whose first
send (its consent: it creates and subscribes the member) is still out with a worker has ``opt_in`` None,
``member_status`` "" until that send closes: the proof marks it ``foreign_member`` (which the close keeps: guarded) but
not ``consent_made``, and the close records opt_in True, subscribed, consent_made False (a first send "arrives"). The
subscription made by the stranger's consent alone is then taken for the owner's
(``receivers.contacts.withdrawn_own_only_in``): the stranger's Unsubscribe is "its own consent only", and the owner, who
never consented, stays subscribed."""
import pytest
from django.test import Client

from shoop_mailchimp import shop_consent
from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-proof-after-the-close", "proof-while-out"])
def test_a_strangers_unsubscribe_ends_the_subscription_its_consent_made_though_the_owner_proved_meanwhile(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, overlap):
    """Single opt-in. A stranger registers an account with Ann's address, with consent: its first send finds no
    member, creates it subscribed (the stranger's consent alone), and its customer PUT is slow. Meanwhile Ann
    registers her own account with her address and proves it (activation link); she never consents. Later the
    stranger presses Unsubscribe. Expected (the control: Ann proves after the stranger's send closed): the
    subscription only the stranger's consent made ends with its Unsubscribe; nobody consents, Ann is not mailed.
    Found: Ann's address stays subscribed, though nobody in the shop consents."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.aud28.f2.%d@fastmail.com" % overlap
    stranger_user, stranger = registered_account(shop, django_user_model, "str28f2%d" % overlap, email,
                                                 first_name="Stranger", marketing_permission=True)
    make_all_due()

    def ann_registers_and_proves():
        _ann_user, ann = registered_account(shop, django_user_model, "ann28f2%d" % overlap, email, first_name="Ann")
        shop_consent.record_proof(ann.pk, email)
        return ann

    with another_worker_held(emulator, "*/customers/%d" % stranger.pk, "the stranger's customer PUT"):
        assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup: the stranger subscribed"
        if overlap:
            ann_registers_and_proves()
            assert row_of(stranger).foreign_member is True, "setup: the proof reached the stranger's row"
    if not overlap:
        ann_registers_and_proves()
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
