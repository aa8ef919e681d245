"""Found by independent review aud35 (issue 19), F4 (consent given never reaching Mailchimp): after an upemail, a
member a marketer deleted for good left the contact failed for good (3172c73); it is sent as new to its own address
now."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def fired(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("deleted", [False, True], ids=["control-member-kept", "member-deleted"])
def test_her_subscription_from_the_shop_reaches_mailchimp_after_a_marketer_deleted_her_member(
        shop, configuration, mailchimp_account, client, settings, deleted):
    """Harm (consent/data): Vera subscribes in the shop (account page) and is never subscribed in Mailchimp; every
    later change of hers (names, consent) is never sent, the row FAILED for good ("sending it again from the admin
    looks again", and fails again).

    Steps: Vera (no consent yet) is sent: a transactional member at vera@. She changes her address in Mailchimp's
    profile page to vera.new@ (the upemail reaches the shop: the row addresses vera.new@). A marketer deletes her
    member for good (a clean-up). A full reconciliation finds the row's member gone (``requeue_missing``: "the send
    re-adds it"); Vera then ticks the newsletter on her account page. Each send now runs
    ``ContactPlan._member_moved_on`` (no member at vera.new@, none by ``unique_email_id``): FAILED, nothing written,
    whatever changed, while Mailchimp holds no member at vera@ either (her shop address is nobody's member: the
    reason 3172c73 gives for not going back there does not hold). Control: no upemail: the shop re-adds her at
    vera@ with her consent."""
    from django.core.management import call_command
    from shuup.core.models import PersonContact

    from shoop_mailchimp.storefront import subscriptions
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "del%d" % deleted
    email, moved = "vera.%s@fastmail.com" % tag, "vera.%s.new@fastmail.com" % tag
    vera = new_person(permission=False, email=email, first_name="Vera")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email), "setup"
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=moved)
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(timezone.now() - timedelta(seconds=2)), old_email=email,
        new_email=moved, new_id="x1")).status_code == 200
    send_due(rounds=2)
    assert row_of(vera).email == moved, "setup"
    if deleted:
        emulator.edit_member_by_hand(api_key, list_id, moved, delete=True)
    call_command("mailchimp_reconcile", "--full")
    send_due(rounds=3)
    vera = PersonContact.objects.get(pk=vera.pk)
    subscriptions.subscribe_person(shop, vera, "account")
    send_due(rounds=3)
    row = row_of(vera)
    found = [(address, (emulator.get_member(api_key, list_id, address) or {}).get("status"))
             for address in (email, moved)]
    assert any(status in ("subscribed", "pending") for _address, status in found), (
        "Vera subscribed in the shop; Mailchimp holds %r; her row is %s: %r" % (found, row.status, row.last_error))
