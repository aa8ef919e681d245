"""Found by independent review aud37 (issue 19), F2 (consent): a lost first send's retry compared the member's status
with this send's asked status (ed139d8, withdrawn): an unconsented first attempt's member, signed up on the form by its
owner since, counted as the stranger's consent's, and a subscription the attempt made under single opt-in did not once
the audience switched to double opt-in. Only a consent given before the first claim counts now."""
import pytest
from django.test import Client

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for
from tests.storefront.helpers import choose, page_messages, registered_account


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("double", [False, True], ids=["single-opt-in", "double-opt-in"])
@pytest.mark.parametrize("ann_signs_up", [False, True], ids=["control-no-form-signup", "ann-signs-up-on-form"])
def test_a_strangers_unsubscribe_ends_anns_form_signup_on_a_member_its_lost_attempt_created_unconsented(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, double, ann_signs_up):
    """Harm (consent): Ann, who proved the address hers and subscribed on Mailchimp's own form, is unsubscribed by a
    stranger's Unsubscribe press (an account someone registered with her address).

    Steps (the shop sends contacts without consent too): a stranger registers an account with Ann's address, no
    consent; its first send creates the member *transactional*, but the answer is lost (a timeout): the row stays a
    first send. Ann registers her own account and proves the address, then subscribes on Mailchimp's own form
    (double opt-in: she signs up, pending; the webhook is not delivered). The stranger then presses Subscribe. The
    retried first send (``proven_by_another`` and ``retried_first_send``) reads the member: its
    ``timestamp_signup`` is the lost attempt's, and its status (Ann's: subscribed / pending) equals the *current*
    send's ``status_if_new`` (the stranger consents now) though the lost attempt asked *transactional*: so
    ``created_earlier`` (contact.py, ContactPlan.run) holds, ``consent_made`` becomes True, and the stranger's
    Unsubscribe ends Ann's own subscription. The check should compare with the status the lost attempt asked for
    (what the row last sent), not with this send's. Control: Ann does not sign up: the stranger's consent makes the
    subscription, and its Unsubscribe ends it."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    configuration.double_opt_in = double
    configuration.send_unconsented = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.aud37.c.%d%d@fastmail.com" % (double, ann_signs_up)
    emulator.faults.hang(60, path_pattern="*/members*", times=1, method="POST")
    stranger_user, stranger = registered_account(shop, django_user_model, "str37c%d%d" % (double, ann_signs_up),
                                                 email, first_name="Stranger", marketing_permission=False)
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email) is not None, "the lost write landing")
    emulator.faults.clear()
    assert row_of(stranger).status == SyncStatus.PENDING, "setup: the first send is retried"
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    _ann_user, ann = registered_account(shop, django_user_model, "ann37c%d%d" % (double, ann_signs_up), email,
                                        first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    if ann_signs_up:
        if double:  # her form signup waits for her confirmation (Mailchimp fires no webhook for it)
            emulator.edit_member_by_hand(api_key, list_id, email, status="pending")
        else:
            emulator.fire_event(api_key, list_id, "subscribe", email)
    ann_status = emulator.get_member(api_key, list_id, email)["status"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(stranger_user)
    choose(browser, subscribe=True)
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.email, row.member_status, row.foreign_member, row.opt_in, row.consent_made)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, email)["status"]
    if ann_signs_up:
        assert status == ann_status, (
            "Ann signed up herself (%s); after the stranger's Unsubscribe the member is %s (stranger's row before "
            "the press: email, member_status, foreign_member, opt_in, consent_made = %r; page said %r)" % (
                ann_status, status, before, messages))
    else:
        assert status not in ("subscribed", "pending"), (status, before, messages)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("switched", [False, True], ids=["control-single-throughout", "double-opt-in-switched-on"])
def test_a_strangers_unsubscribe_leaves_anns_address_subscribed_by_its_own_lost_attempt(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, switched):
    """Harm (consent): Ann, who proved the address hers and never consented, stays subscribed by a stranger's
    consent after the stranger pressed Unsubscribe.

    Steps (single opt-in): a stranger registers an account with Ann's address, consent given; its first send
    creates the member *subscribed*, but the answer is lost (a timeout). The marketer switches the audience to double
    opt-in. Ann registers and proves the address. The stranger's first send is retried (``proven_by_another``,
    ``retried_first_send``): the member's ``timestamp_signup`` is the lost attempt's and its status is the one that
    attempt asked for (subscribed), but ``created_earlier`` compares it with *this* send's ``status_if_new``
    (pending under double opt-in): not its creation, so ``consent_made`` stays False. The stranger's Unsubscribe is
    then "its own consent only" and the subscription its lost attempt made stays on Ann's address. Control: no
    switch: the press ends it."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    configuration.double_opt_in = False
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.aud37.sw.%d@fastmail.com" % switched
    emulator.faults.hang(60, path_pattern="*/members*", times=1, method="POST")
    stranger_user, stranger = registered_account(shop, django_user_model, "str37s%d" % switched, email,
                                                 first_name="Stranger", marketing_permission=True)
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email) is not None, "the lost write landing")
    emulator.faults.clear()
    assert row_of(stranger).status == SyncStatus.PENDING, "setup: the first send is retried"
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    if switched:
        configuration.double_opt_in = True
        configuration.save()
    _ann_user, ann = registered_account(shop, django_user_model, "ann37s%d" % switched, email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)
    send_due(rounds=3)
    row = row_of(stranger)
    before = (row.email, row.member_status, row.foreign_member, row.opt_in, row.consent_made)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(stranger_user)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status == "unsubscribed", (
        "Ann never consented; after the stranger's Unsubscribe the subscription its lost attempt made is %s "
        "(stranger's row before: email, member_status, foreign_member, opt_in, consent_made = %r; page said %r)" % (
            status, before, messages))
