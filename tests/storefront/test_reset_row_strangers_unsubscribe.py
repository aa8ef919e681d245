"""Found by independent review aud36 (issue 19), F4 (consent): a row reset to a first send (its upemail-named member
deleted in Mailchimp) kept its consent state and an unsubscribe asked for, which then ended a form subscriber's
subscription at the shop's address. The reset forgets the consent last sent and that unsubscribe."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moved", [False, True], ids=["control-deleted-at-the-address", "moved-then-deleted"])
def test_an_unproven_accounts_unsubscribe_ends_a_form_subscription_its_consent_never_made(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, moved):
    """Harm (consent): Ann's own subscription on Mailchimp's form is ended by the Unsubscribe press of an account
    whose owner never proved the address (anyone can register one with Ann's address).

    Steps: an account registered with ann@ (unproven) consents; its member U is subscribed at ann@. In Mailchimp's
    profile page U's address is changed to ann@other (the upemail reaches the shop: the row addresses ann@other), and
    a marketer deletes that member for good. Ann subscribes ann@ on Mailchimp's own form: a new member W (its
    webhook reaches the shop, but finds the row at ann@other: nothing tells it W is not the account's). The account's
    holder presses Unsubscribe: ``withdrawn_own_only_in`` reads the row (``foreign_member`` False, ``opt_in`` True:
    "its consent made the subscription") and sends an UNSUBSCRIBE. The send finds no member at ann@other nor by
    ``unique_email_id``; ``_member_moved_on`` resets the row to a first send to ann@ (email/member_status/
    unique_email_id only), which reads W, takes it as another's, and still unsubscribes it. Control: the same account
    without the upemail (U deleted at ann@, W signs up there): the ``subscribe`` webhook teaches the row W is not its
    member, and the press is "its own consent only": W stays subscribed."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email, other = "ann.rs36.%d@fastmail.com" % moved, "ann.rs36.%d@other.example.com" % moved
    user, account = registered_account(shop, django_user_model, "acc36r%d" % moved, email, first_name="Acc",
                                       marketing_permission=True)
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed", "setup"
    web = Client()
    if moved:
        emulator.fire_event(api_key, list_id, "upemail", email, new_email=other)
        assert web.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(timezone.now() - timedelta(seconds=2)), old_email=email,
            new_email=other, new_id=member["unique_email_id"])).status_code == 200
        send_due(rounds=2)
        assert row_of(account).email == other, "setup"
        emulator.edit_member_by_hand(api_key, list_id, other, delete=True)
    else:
        emulator.edit_member_by_hand(api_key, list_id, email, delete=True)
    form_member, _ = emulator.fire_event(api_key, list_id, "subscribe", email, merges={"FNAME": "Ann"})
    assert web.post(webhook_path(configuration), mailchimp_form(
        "subscribe", list_id, fired_at=fired(timezone.now()), email=email,
        id=form_member["unique_email_id"])).status_code == 200
    row = row_of(account)
    before = (row.email, row.foreign_member, row.opt_in, row.consent_made)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=4)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status == "subscribed", (
        "Ann's form subscription at %s was ended (now %s) by the unproven account's Unsubscribe (row before the "
        "press: email, foreign_member, opt_in, consent_made = %r; page said %r)" % (email, status, before, messages))
