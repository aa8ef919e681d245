"""Found by independent review aud28 (issue 19), F1 (consent): ``consent_made`` is a fact a close writes back unguarded
(``state.FACT_FIELDS``, not in ``GUARDED_FIELDS``). The ``subscribe`` webhook (``member_events.handle_subscribe``)
clears it on every row of the address (the address's owner confirmed: the subscription is hers, no contact's consent
alone made it). When the owner confirms while the send that asked her to confirm is still out (its customer PUT, its
tags), that send's close (``state._close`` -> ``_close_changed``, the row changed meanwhile) writes
``consent_made=True`` back over the webhook's ``False``. Nothing clears it again (the next send computes
``consent_made`` None: unchanged). The unproven account's Unsubscribe is then no longer "its own consent only"
(``receivers.contacts.withdrawn_own_only_in``): it unsubscribes the member its owner confirmed herself."""
import pytest
from django.test import Client

from shoop_mailchimp.storefront import views
from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account
from tests.webhooks.helpers import post_event


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-confirmed-after-the-close", "confirmed-while-out"])
def test_an_owners_confirmation_while_the_send_is_out_keeps_her_subscription_hers(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, overlap):
    """Double opt-in. Mailchimp holds Fay's address as a guest buyer's transactional member. A stranger registers an
    account with Fay's address (not activated): its first send leaves Fay's member alone (``foreign_member``). The
    account presses Subscribe: its send asks Fay to confirm (pending), and its customer PUT is slow. Fay follows the
    link at once (the ``subscribe`` webhook reaches the shop while the account's send is still out). Later the
    account presses Unsubscribe. Expected (the control: Fay confirms after the send closed): the Unsubscribe is the
    account's own consent only, Fay stays subscribed. Found: the send's close put ``consent_made`` back, the
    account's Unsubscribe ends Fay's confirmed subscription."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.double_opt_in = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "fay.aud28.f1.%d@fastmail.com" % overlap
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Fay"})
    user, account = registered_account(shop, django_user_model, "fay28f1%d" % overlap, email, first_name="Stranger")
    send_due(rounds=3)
    row = row_of(account)
    assert (row.foreign_member, row.member_status, row.opt_in) == (True, "transactional", False), "setup"

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    choose(browser, subscribe=True)
    make_all_due()

    def fay_confirms():
        emulator.set_member_status(api_key, list_id, email, "subscribed")
        assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200

    with another_worker_held(emulator, "*/customers/%d" % account.pk, "the account's customer PUT"):
        assert emulator.get_member(api_key, list_id, email)["status"] == "pending", "setup: Fay asked to confirm"
        if overlap:
            fay_confirms()
            assert row_of(account).consent_made is False, "setup: the subscribe webhook cleared consent_made"
    if not overlap:
        fay_confirms()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    made = row_of(account).consent_made
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "the unproven account's Unsubscribe ended the subscription Fay confirmed herself (its row's consent_made "
        "before the Unsubscribe: %r; page said %r)" % (made, messages))
    assert messages == [str(views.UNSUBSCRIBED_ACCOUNT_ONLY)]
