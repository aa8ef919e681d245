"""Found by independent review aud32 (issue 19), F2 (consent): a ``subscribe`` delivery fired before the confirmation
the shop asked for."""
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import Contact

from shoop_mailchimp.storefront.subscriptions import subscribe_address
from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_subscribe_fired_before_a_strangers_press_gives_no_consent(shop, configuration, mailchimp_account, client):
    """Harm: Paula never consented in the shop, yet the shop records her marketing permission ("confirmed the
    subscription asked for") on the strength of a stranger's press and a marketer's act: her account page shows
    her subscribed by her own choice, the shop's proof of consent names a confirmation she never gave, and the
    consent is sent as hers wherever the shop sends it later (another audience after an Initialize, Shuup's own
    marketing permission).

    Steps: Paula's account (no consent) is sent (``transactional``). At T0 a marketer subscribes her member in
    Mailchimp (admin source: the ``subscribe`` webhook fires; its delivery fails and Mailchimp retries it). At T1 a
    stranger types her address into the newsletter block: her row gets ``consent_request = confirm``; the send finds
    the member subscribed, mails no link, and the request stays on the row. The T0 delivery arrives:
    ``member_events.handle_subscribe`` takes any subscribe for a row carrying ``confirm`` as its owner's
    confirmation; ``_current`` weighs only ``mailchimp_fact_at``/``consent_sent_at``, not when the confirmation was
    asked for (``consent_requested_at``), so an event fired before the request (which cannot answer it) gives
    consent."""
    emulator, api_key, list_id = mailchimp_account
    email = "paula.t0@fastmail.com"
    paula = new_person(permission=False, email=email, first_name="Paula")
    send_due(rounds=2)
    t0 = timezone.now() - timedelta(seconds=30)
    emulator.edit_member_by_hand(api_key, list_id, email, status="subscribed")  # the marketer, at T0
    subscribe_address(shop, email)  # a stranger types Paula's address into the block, at T1
    send_due(rounds=2)
    row = row_of(paula)
    assert (row.consent_request, row.member_status) == ("confirm", "subscribed")
    assert row.consent_requested_at.replace(microsecond=0) > t0
    assert client.post(webhook_path(configuration), mailchimp_form(
        "subscribe", list_id, fired_at=t0.strftime("%Y-%m-%d %H:%M:%S"), email=email)).status_code == 200
    assert Contact.objects.get(pk=paula.pk).marketing_permission is False, (
        "a subscribe fired before the confirmation was asked for gave Paula's consent in the shop")
