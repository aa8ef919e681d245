"""A GDPR-enabled audience: its members' marketing permissions follow the consent the shop decides."""
import pytest

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.models import MailchimpConfiguration, SyncState
from shoop_mailchimp.sync import bulk
from tests.helpers import new_person, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.fixture
def gdpr_configuration(shop, mailchimp_settings, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    list_id = emulator.add_list(api_key, name="GDPR audience", marketing_permissions=True)
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    initialize(configuration)
    return emulator, api_key, list_id


def enabled(emulator, api_key, list_id, email):
    member = emulator.get_member(api_key, list_id, email)
    return {item["text"]: item["enabled"] for item in member["marketing_permissions"]}


def test_consent_given_in_the_shop_enables_them_and_a_withdrawal_disables_them(gdpr_configuration):
    emulator, api_key, list_id = gdpr_configuration
    person = new_person(permission=True)
    permissions = enabled(emulator, api_key, list_id, person.email)
    assert permissions and all(permissions.values())
    person.marketing_permission = False
    person.save()
    assert not any(enabled(emulator, api_key, list_id, person.email).values())
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"


def test_without_consent_they_stay_off_and_a_plain_edit_leaves_the_persons_own_choices(gdpr_configuration):
    emulator, api_key, list_id = gdpr_configuration
    silent = new_person(permission=False)
    assert not any(enabled(emulator, api_key, list_id, silent.email).values())
    consenting = new_person(permission=True)
    member = emulator.get_member(api_key, list_id, consenting.email)
    first = member["marketing_permissions"][0]["marketing_permission_id"]
    with MailchimpSession(api_key) as session:  # the person turns one of them off in Mailchimp
        session.patch(member_path(list_id, consenting.email),
                      {"marketing_permissions": [{"marketing_permission_id": first, "enabled": False}]})
    consenting.first_name = "Renamed"
    consenting.save()  # not a consent decision: the person's choice stands
    after = emulator.get_member(api_key, list_id, consenting.email)["marketing_permissions"]
    assert [item["enabled"] for item in after if item["marketing_permission_id"] == first] == [False]


def test_a_bulk_import_sets_them_from_the_shops_consent(gdpr_configuration, settings):
    emulator, api_key, list_id = gdpr_configuration
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    consenting, silent = new_person(permission=True), new_person(permission=False)
    SyncState.objects.filter(kind="contact").delete()  # saved before the shop was connected
    configuration = MailchimpConfiguration.objects.get()
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)  # the contact without consent: its batch read the member first, the worker sends it next
    assert all(enabled(emulator, api_key, list_id, consenting.email).values())
    assert not any(enabled(emulator, api_key, list_id, silent.email).values())


def test_a_withdrawal_saved_with_a_move_to_another_contacts_address_disables_them_at_the_old_address(
        gdpr_configuration):
    """Fifth review of issue 19 (aud8): a contact's e-mail changed to another consenting contact's address, its
    consent withdrawn in the same save: the withdrawal was the consent given for its old address. The member there is
    unsubscribed with its permissions off; the other contact's member keeps its status and permissions."""
    emulator, api_key, list_id = gdpr_configuration
    other = new_person(permission=True)
    moving = new_person(permission=True)
    old_email = moving.email
    moving.email = other.email
    moving.marketing_permission = False
    moving.save()
    assert emulator.get_member(api_key, list_id, other.email)["status"] == "subscribed"
    assert all(enabled(emulator, api_key, list_id, other.email).values())
    assert emulator.get_member(api_key, list_id, old_email)["status"] == "unsubscribed"
    assert not any(enabled(emulator, api_key, list_id, old_email).values())
