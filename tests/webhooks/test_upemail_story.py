import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_address_changed_in_mailchimp_is_kept_until_the_shop_changes_its_own(
    client, configuration, mailchimp_account
):
    emulator, api_key, list_id = mailchimp_account
    contact = PersonContact.objects.create(first_name="Ada", email="ada@fastmail.com", marketing_permission=True)
    # The subscriber changes their address in Mailchimp, which then calls the webhook.
    with MailchimpSession(api_key) as session:
        session.patch(member_path(list_id, "ada@fastmail.com"), {"email_address": "ada.new@fastmail.com"})
    assert post_event(client, configuration, "upemail", old_email="ada@fastmail.com",
                      new_email="ada.new@fastmail.com", new_id="n1").status_code == 200

    contact.first_name = "Adaline"
    contact.save()
    member = emulator.get_member(api_key, list_id, "ada.new@fastmail.com")
    assert member["merge_fields"]["FNAME"] == "Adaline", "later syncs address Mailchimp's new address"
    assert emulator.get_member(api_key, list_id, "ada@fastmail.com") is None, "the member is not moved back"
    customer = emulator.get_customer(api_key, configuration.store_id, str(contact.pk))
    assert customer["email_address"] == "ada.new@fastmail.com"

    contact.email = "ada.shop@fastmail.com"
    contact.save()
    assert emulator.get_member(api_key, list_id, "ada.shop@fastmail.com")["merge_fields"]["FNAME"] == "Adaline"
    assert emulator.get_member(api_key, list_id, "ada.new@fastmail.com") is None
