"""Double opt-in end to end: the shop sends ``pending``; Mailchimp's subscribe webhook completes it."""
import pytest
from shuup.testing.factories import create_random_person

from shoop_mailchimp.models import SyncKind, SyncState
from tests.helpers import member_writes
from tests.webhooks.helpers import configure_with_live_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def double_opt_in(settings, live_server, shop, mailchimp_settings, mailchimp_account):
    return configure_with_live_webhook(settings, live_server, shop, mailchimp_account, double_opt_in=True)


def test_consent_is_pending_until_the_subscribe_webhook_confirms_it(double_opt_in, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    assert double_opt_in.webhook_id
    person = create_random_person()
    person.marketing_permission = True
    person.save()

    assert emulator.get_member(api_key, list_id, person.email)["status"] == "pending"
    state = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=person.pk)
    assert (state.member_status, state.opt_in) == ("pending", True)

    # The person clicks the confirmation link: Mailchimp subscribes them and calls the webhook.
    emulator.set_member_status(api_key, list_id, person.email, "subscribed")
    outcome = emulator.deliver_webhook(api_key, list_id, "subscribe", {
        "email": person.email, "merges": {"FNAME": person.first_name}, "email_type": "html",
    })
    assert [status for _, status in outcome] == [200]

    state.refresh_from_db()
    assert (state.member_status, state.opt_in) == ("subscribed", True)
    person.refresh_from_db()
    assert person.marketing_permission is True
    # A later save changes nothing about consent: the member stays subscribed, no second confirmation.
    emulator.clear_requests()
    person.first_name = "Confirmed"
    person.save()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    puts = member_writes(emulator)
    assert puts and all("status" not in r["body"] for r in puts)


def test_without_consent_double_opt_in_sends_no_confirmation(double_opt_in, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = create_random_person()
    person.marketing_permission = False
    person.save()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
