"""review19: a shop owner disconnects from Mailchimp and, cleaning up, removes the stored API key (which also needs
"Send changes to Mailchimp" unticked). Meanwhile a customer withdraws their consent in the shop (Shuup's own
marketing-permission box). Months later the owner enters the key again and reconnects. docs/disconnect.rst:
"Changes are still recorded ... Nothing is lost, and nothing needs re-sending by hand" - but a configuration without
a key (or disabled) is not "recording" (``MailchimpConfiguration.objects.recording``), so the withdrawal was never
recorded, the reconnect sends nothing for that customer, and Mailchimp keeps mailing someone who said no. The
reconnect's reconciliation only reads what changed in Mailchimp, and "Sync existing contacts" only sends contacts
never sent."""
import pytest

from shoop_mailchimp.models import JobKind, MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from tests.admin.conftest import post_shop_form
from tests.disconnect.conftest import url
from tests.helpers import make_all_due, new_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_withdrawal_made_while_disconnected_without_a_key_reaches_mailchimp_at_the_reconnect(
        admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    request_job(connected.shop_id, JobKind.CHECK_ACCOUNT)  # the audience's merge fields, read long ago
    run_due_jobs(connected.shop_id)
    assert MailchimpConfiguration.objects.get(pk=connected.pk).audience_merge_fields is not None
    person = new_person()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    admin_client.post(url("disconnect"))
    response = post_shop_form(admin_client, connected.shop, remove_api_key=True, enabled=None)
    assert response.status_code == 302
    assert not MailchimpConfiguration.objects.get(pk=connected.pk).has_api_key

    person.marketing_permission = False  # the customer unticks the box on their customer information page
    person.save()

    response = post_shop_form(admin_client, connected.shop, api_key=api_key, enabled=True, initialize="1")
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.is_active
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed", (
        "the consent withdrawn in the shop while disconnected never reached Mailchimp")
