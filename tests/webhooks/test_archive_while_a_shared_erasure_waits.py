"""Found by independent review aud56 (issue 19) of 243957f, F4 (fixed: an archive ends no consent on a waiting erasure's
row; consent): ``member_events.handle_unsubscribe`` calls ``_erasures_learn(opt_in=False, consent_made=False)`` before
it looks at ``data[action]``: a marketer's archive (``action=delete``, which the handler itself says leaves "the shop's
marketing permission unchanged" and records only ``member_status=ARCHIVED`` on live rows) is learnt by a waiting erasure
as the end of the erased contact's consent. When the marketer restores the member's subscription (the subscribe webhook
reaches every row of the address), the erasure no longer withdraws (``plan`` -> ``consent_left_with``: ``opt_in`` False)
and the member stays subscribed for a contact who never consented. The same archive and unarchive before the erasure is
recorded leave the erased contact's consent on the row, and the erasure unsubscribes the member."""
import time

import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.webhooks.helpers import post_event, vera_shares_her_member_with_carl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def _archived_then_unarchived(configuration, mailchimp_account, email):
    """A marketer archives the member (the unsubscribe webhook, action=delete, reaches the shop), then restores it:
    subscribed again, told by the ``subscribe`` webhook (source admin), which reaches every row of the address."""
    emulator, api_key, list_id = mailchimp_account
    emulator.edit_member_by_hand(api_key, list_id, email, status="archived")
    assert post_event(Client(), configuration, "unsubscribe", email=email, action="delete").status_code == 200
    time.sleep(1.1)
    emulator.fire_event(api_key, list_id, "subscribe", email, source="admin")
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"


@pytest.mark.parametrize("while_erasure_waits", [False, True],
                         ids=["control-archived-before-the-erasure", "archived-while-the-erasure-waits"])
def test_a_shared_member_unarchived_while_the_erasure_waits_is_unsubscribed(
        configuration, mailchimp_account, settings, while_erasure_waits):
    """Harm (consent): Carl, who never consented, gets the newsletter on the consent of Vera, who was erased.

    Steps: Vera (consenting) is sent: her own subscribed member at family@. Carl (no consent) is added with family@.
    Vera's account is deleted (erasure recorded, DELIVERY=worker: not sent). A marketer archives the member (the
    unsubscribe webhook, action=delete, reaches the shop; the erasure row's opt_in becomes False), then subscribes it
    again (subscribe webhook, source admin). The worker sends the erasure.

    Control ("control-archived-before-the-erasure", passes on 243957f): the same archive and resubscribe before Vera's
    account is deleted (her row keeps opt_in=True, as the archive handler promises): the erasure unsubscribes the
    member (Carl does not consent).
    Expected in both: family@ is not subscribed once Vera is erased."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud56f4@fastmail.com" % while_erasure_waits
    vera, carl = vera_shares_her_member_with_carl(mailchimp_account, family)
    if not while_erasure_waits:
        _archived_then_unarchived(configuration, mailchimp_account, family)
        send_due(rounds=2)
        assert row_of(vera).member_status == "subscribed", "setup: the unarchive learnt"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    if while_erasure_waits:
        _archived_then_unarchived(configuration, mailchimp_account, family)
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=carl.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, family)
    assert member is None or member["status"] not in ("subscribed", "pending"), (
        "Vera was erased and Carl never consented; %s stays %s (Vera's erasure row: opt_in=%r)" % (
            family, member["status"], row_of(vera).opt_in))
