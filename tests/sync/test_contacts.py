import pytest
from shuup.testing.factories import create_random_person

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncState, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_contact_save_reaches_mailchimp_as_customer_and_member(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = create_random_person()
    person.marketing_permission = True
    person.save()
    state = SyncState.objects.get(kind="contact", object_id=person.pk)
    assert state.status == SyncStatus.SYNCED
    member = emulator.get_member(api_key, list_id, person.email)
    assert member["status"] == "subscribed"
    assert member["merge_fields"]["FNAME"] == person.first_name
    customer = emulator.get_customer(api_key, configuration.store_id, str(person.pk))
    assert customer["email_address"] == person.email
    assert subscriber_hash(person.email) == member["id"]
