"""Changes made while an initialized shop sends nothing (disconnected, the key removed, "Send changes to
Mailchimp" unticked) are recorded, and sent when the shop sends again: a consent withdrawn meanwhile reaches
Mailchimp (review19 finding 2)."""
import pytest

from shoop_mailchimp.models import JobKind, MailchimpConfiguration, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from tests.admin.conftest import post_shop_form, url
from tests.helpers import make_all_due, member_writes, new_person, row_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


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
    assert row_of(person).status == SyncStatus.PENDING, "the withdrawal is recorded while nothing is sent"

    response = post_shop_form(admin_client, connected.shop, api_key=api_key, enabled=True, initialize="1")
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.is_active
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed", (
        "the consent withdrawn in the shop while disconnected never reached Mailchimp")


def test_a_withdrawal_made_while_send_changes_is_unticked_reaches_mailchimp_when_it_is_ticked_again(
        admin_client, connected, mailchimp_account):
    """Untick "Send changes to Mailchimp", change, tick it again: no disconnect, no Initialize."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    assert post_shop_form(admin_client, connected.shop, enabled=None).status_code == 302
    assert not MailchimpConfiguration.objects.get(pk=connected.pk).is_active
    emulator.clear_requests()
    person.marketing_permission = False
    person.save()
    drain()
    assert row_of(person).status == SyncStatus.PENDING, "the withdrawal is recorded"
    assert member_writes(emulator) == [], "and nothing is sent while the box is unticked"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    assert post_shop_form(admin_client, connected.shop, enabled=True).status_code == 302
    # Ticking the box again sends what was recorded meanwhile (the save wakes the drainer).
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"
    assert row_of(person).status == SyncStatus.SYNCED and row_of(person).opt_in is False
