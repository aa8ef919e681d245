"""Found by independent review aud34 (issue 19), F1 (consent): a first fix of aud32 F1 (a send to an upemail's address
reads the member there first) sent the row back to the shop's address when none was there; with two legitimate
upemails, the second delivered late, the contact's Unsubscribe then missed her member. The row follows the member by
its ``unique_email_id`` now."""

import pytest

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import moved_twice_in_mailchimp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("second_delivery_late,reconciled", [(False, False), (True, False), (True, True)],
                         ids=["control-in-time", "second-delivery-late", "second-delivery-late-reconciled-after"])
def test_two_legitimate_upemails_her_unsubscribe_reaches_her_member(
        shop, configuration, mailchimp_account, client, settings, second_delivery_late, reconciled):
    """Harm (consent): Wendy's own Unsubscribe in the shop never reaches her member; she keeps getting the
    newsletter she withdrew from.

    Steps: Wendy consents, her member is subscribed at wendy@ (her shop address). In Mailchimp's profile page she
    changes her address to wendy@work (T0), and a little later to wendy@home (T1): two legitimate upemails, in
    order. The T0 delivery reaches the shop at once (the row addresses wendy@work); the T1 delivery fails once and
    Mailchimp retries it later. A send of Wendy's runs in between: 0c802f7 reads wendy@work, finds no member there
    (Mailchimp moved it on to wendy@home) and sends the row back to wendy@ (``facts = {"email": shop_email}``,
    ContactPlan.run). The T1 retry (old_email = wendy@work) then matches no row (``matching_states``: the row is
    at wendy@ now, the contact's shop address is wendy@) and is dropped. Wendy presses Unsubscribe on her account
    page: the unsubscribe goes to wendy@ (where Mailchimp had no member: it creates one there, or nothing), and
    her member at wendy@home stays subscribed. A full reconciliation after the unsubscribe does not repair it either
    (third case: the row stays at wendy@, her member at wendy@home subscribed). A full reconciliation run before the
    unsubscribe does move the row to wendy@home (tried: it then passes): the harm is for an unsubscribe made in
    between, and Wendy's shop address meanwhile gets a new member with her data (transactional, by the customer
    PUT). Control: the T1 delivery arrives before the send."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.storefront import subscriptions
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")  # sends run at send_due
    emulator, api_key, list_id = mailchimp_account
    tag = "late" if second_delivery_late else "ontime"
    email = "wendy.%s@fastmail.com" % tag
    work, home = "wendy.%s@work.example.com" % tag, "wendy.%s@home.example.com" % tag
    wendy = new_person(permission=True, email=email, first_name="Wendy")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    # In Mailchimp (her profile page): wendy@ -> work at T0, work -> home at T1.
    deliver_t1 = moved_twice_in_mailchimp(client, configuration, mailchimp_account, email, work, home,
                                          second_delivery_late)
    send_due(rounds=3)
    if second_delivery_late:
        deliver_t1()
        send_due(rounds=3)
    row_email = row_of(wendy).email
    subscriptions.withdraw_consent(shop, PersonContact.objects.get(pk=wendy.pk))  # the account page's Unsubscribe
    send_due(rounds=3)
    if reconciled:  # a full reconciliation (it matches members by unique_email_id) after her unsubscribe
        from django.core.management import call_command
        call_command("mailchimp_reconcile", "--full")
        send_due(rounds=3)
    assert PersonContact.objects.get(pk=wendy.pk).marketing_permission is False
    member = emulator.get_member(api_key, list_id, home)
    assert member["status"] == "unsubscribed", (
        "Wendy's unsubscribe never reached her member at %s: it is %s (her row addressed %s before the "
        "unsubscribe, %s at the end; member at her shop address now: %r)" % (
            home, member["status"], row_email, row_of(wendy).email,
            (emulator.get_member(api_key, list_id, email) or {}).get("status")))
