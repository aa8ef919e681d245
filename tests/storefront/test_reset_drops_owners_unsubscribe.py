"""Found by independent review aud37 (issue 19), F1 (consent): a row reset to a first send (its upemail-named member
gone) forgot its consent and an unsubscribe asked for also where the contact proved the shop's address theirs: the
owner's Unsubscribe never reached her own new signup there. A proven owner's reset keeps them now."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shoop_mailchimp import shop_consent
from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, page_messages, registered_account
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moved", [False, True], ids=["control-deleted-at-the-address", "moved-then-deleted"])
def test_a_proven_owners_unsubscribe_reaches_the_subscription_at_her_address(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, moved):
    """Harm (consent): Ann, who proved ann@ hers, presses Unsubscribe on her account page ("You are unsubscribed:
    we will not send you our newsletter") and stays subscribed at ann@.

    Steps: Ann's account (ann@ proven) consents; her member U is subscribed at ann@. In Mailchimp's profile page she
    changes U's address to ann@work (the upemail reaches the shop: her row addresses ann@work). Later she signs up
    ann@ again on Mailchimp's own form (member W; its webhook reaches the shop, but the row is at ann@work), and a
    marketer deletes ann@work for good (a clean-up). Ann presses Unsubscribe. The send finds nothing at ann@work
    nor by ``unique_email_id``: ``_member_moved_on`` resets the row to a first send to ann@ and drops the
    UNSUBSCRIBE (``consent_request`` "", ``opt_in`` None); the first send (``proven``: owned) writes W with
    ``status_if_new`` only and no status change, so W stays subscribed. The drop guards an unproven account
    (aud36 F4), but Ann proved ann@: the member there is hers, and her withdrawal should reach it. Control: U is
    deleted at ann@ itself and W signs up there: the press unsubscribes W."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email, work = "ann.rd37.%d@fastmail.com" % moved, "ann.rd37.%d@work.example.com" % moved
    user, ann = registered_account(shop, django_user_model, "ann37rd%d" % moved, email, first_name="Ann",
                                   marketing_permission=True)
    shop_consent.record_proof(ann.pk, email)
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed", "setup"
    web = Client()
    if moved:
        emulator.fire_event(api_key, list_id, "upemail", email, new_email=work)
        assert web.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(timezone.now() - timedelta(seconds=2)), old_email=email,
            new_email=work, new_id=member["unique_email_id"])).status_code == 200
        send_due(rounds=2)
        assert row_of(ann).email == work, "setup"
    else:
        emulator.edit_member_by_hand(api_key, list_id, email, delete=True)
    form_member, _ = emulator.fire_event(api_key, list_id, "subscribe", email, merges={"FNAME": "Ann"})
    assert web.post(webhook_path(configuration), mailchimp_form(
        "subscribe", list_id, fired_at=fired(timezone.now()), email=email,
        id=form_member["unique_email_id"])).status_code == 200
    if moved:
        emulator.edit_member_by_hand(api_key, list_id, work, delete=True)
    send_due(rounds=2)
    row = row_of(ann)
    before = (row.email, row.foreign_member, row.opt_in, row.consent_made)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=4)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status == "unsubscribed", (
        "Ann proved %s hers and pressed Unsubscribe; her subscription there is %s (row before the press: email, "
        "foreign_member, opt_in, consent_made = %r; page said %r)" % (email, status, before, messages))
