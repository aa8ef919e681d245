"""Found by independent review aud32 (issue 19), F1 (consent, data): two upemail
deliveries for one member arriving out of order (Mailchimp retries a delivery the shop did not answer for up to 75
minutes: a later event can arrive before an earlier one)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def fired(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def test_an_upemail_older_than_the_one_undoing_it_leaves_the_sync_at_the_members_address(
        shop, configuration, mailchimp_account, client):
    """Harm: the shop writes Vera's data (names, and every later change: phone, addresses, orders' customer) onto a
    new member at a mailbox that is not hers (the address she typed by mistake in Mailchimp's profile page and
    corrected at once), and her own member never receives her changes again: the docs promise "a late or replayed
    delivery never wins" (shoop_mailchimp/webhooks.py).

    Steps: Vera consents, her member is subscribed at vera@. In Mailchimp's profile page she changes her address to
    vera@fastmai1.com (a typo, someone else's mailbox) at T0 and back to vera@ at T1. Mailchimp's T0 delivery
    fails and is retried; the T1 one (old_email = the typo) arrives first and matches no row (``_no_contact``,
    nothing recorded); the T0 retry (old_email = vera@) then applies: ``member_events.handle_upemail`` moves the
    row to the typo address (``SyncState.email``) and queues it. The next send writes the member at the typo
    address, which Mailchimp did not have."""
    emulator, api_key, list_id = mailchimp_account
    email, typo = "vera.upemail@fastmail.com", "vera.upemail@fastmai1.com"
    vera = new_person(permission=True, email=email, first_name="Vera")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    t0 = timezone.now() - timedelta(seconds=30)
    t1 = t0 + timedelta(seconds=10)
    # In Mailchimp: vera@ -> typo at T0, typo -> vera@ at T1; the member is at vera@ again (the emulator's state).
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(t1), old_email=typo, new_email=email, new_id="x1")).status_code == 200
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(t0), old_email=email, new_email=typo, new_id="x1")).status_code == 200
    send_due(rounds=3)
    stranger = emulator.get_member(api_key, list_id, typo)
    assert stranger is None, "a member was written at the mailbox Vera left at once: %r" % (
        {key: stranger.get(key) for key in ("status", "merge_fields")},)
    assert row_of(vera).email == email


def test_after_upemails_out_of_order_her_own_unsubscribe_reaches_her_member(
        shop, configuration, mailchimp_account, client):
    """Harm (consent): after the two deliveries above arrived out of order, Vera unsubscribes on her account page;
    the shop sends the unsubscribe to the typo address (``SyncState.email``), and her real member at vera@ stays
    subscribed: she keeps receiving the newsletter she withdrew from."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.storefront import subscriptions
    emulator, api_key, list_id = mailchimp_account
    email, typo = "vera.unsub@fastmail.com", "vera.unsub@fastmai1.com"
    vera = new_person(permission=True, email=email, first_name="Vera")
    send_due(rounds=2)
    t0 = timezone.now() - timedelta(seconds=30)
    t1 = t0 + timedelta(seconds=10)
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(t1), old_email=typo, new_email=email, new_id="x1")).status_code == 200
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(t0), old_email=email, new_email=typo, new_id="x1")).status_code == 200
    send_due(rounds=3)
    subscriptions.withdraw_consent(shop, PersonContact.objects.get(pk=vera.pk))  # the account page's Unsubscribe
    send_due(rounds=3)
    assert PersonContact.objects.get(pk=vera.pk).marketing_permission is False
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "Vera's unsubscribe never reached her member: it is %s" % (
            emulator.get_member(api_key, list_id, email)["status"]))


def test_a_member_gone_from_the_audience_after_an_upemail_is_sent_as_new_to_the_shops_address(
        shop, configuration, mailchimp_account, client, settings):
    """Vera's address changed in Mailchimp (an upemail, delivered), then a marketer deleted her member for good.
    Her next change in the shop finds no member at Mailchimp's address, nor hers anywhere (its ``unique_email_id``):
    nothing is written at Mailchimp's address; she is sent as new to her own address (a first send, which would
    leave another's member there alone), where her consent and data reach Mailchimp (aud35 F4: a first version
    failed the row for good, and her later consent never reached Mailchimp)."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.models import SyncStatus
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email, moved = "vera.gone@fastmail.com", "vera.gone.new@fastmail.com"
    vera = new_person(permission=True, email=email, first_name="Vera")
    send_due(rounds=2)
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=moved)
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(timezone.now()), old_email=email, new_email=moved,
        new_id="x1")).status_code == 200
    send_due(rounds=2)
    assert row_of(vera).email == moved, "setup: the row follows Mailchimp's address"
    emulator.edit_member_by_hand(api_key, list_id, moved, delete=True)
    vera = PersonContact.objects.get(pk=vera.pk)
    vera.last_name = "Changed"
    vera.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert emulator.get_member(api_key, list_id, moved) is None
    assert member is not None and (member["status"], member["merge_fields"]["LNAME"]) == ("subscribed", "Changed")
    assert (row_of(vera).status, row_of(vera).email) == (SyncStatus.SYNCED, email)
