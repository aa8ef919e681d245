"""Moving a shop to another audience: refused while connected (the store belongs to its audience), done by a
disconnect that deletes the store and an Initialize with the new audience; the new audience gets none of the
old one's member facts (review19 finding 3)."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from tests.admin.conftest import field_error, post_shop_form, url
from tests.helpers import member_puts, new_person, row_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconnecting_to_another_audience_subscribes_the_consenting_contacts_there(admin_client, connected,
                                                                                   mailchimp_account):
    """The re-created store lives in the new audience, which knows none of the shop's members: a contact who
    consented is subscribed there, as by a first send (not ``transactional`` as a member the shop knew)."""
    emulator, api_key, list_id = mailchimp_account
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    configuration.customer_tag = "customer"
    configuration.save()
    person = new_person()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    assert emulator.get_store(api_key, connected.store_id) is None

    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1")
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == other_list
    assert configuration.disconnected_on is None and configuration.is_active
    store = emulator.get_store(api_key, configuration.store_id)
    assert store is not None and store["list_id"] == other_list

    member = emulator.get_member(api_key, other_list, person.email)
    assert member is not None, "the contact reached the new audience"
    assert person.marketing_permission and member["status"] == "subscribed", (
        "the contact consented in the shop, but the new audience holds them as %r (row: %r)"
        % (member["status"], row_of(person).member_status))
    row = row_of(person)
    assert (row.member_status, row.opt_in) == ("subscribed", True)
    assert row.unique_email_id == member["unique_email_id"], "the new audience's member id, not the old one's"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed", "the old one is left alone"


def test_choosing_another_audience_while_connected_is_refused_with_the_way_to_move(admin_client, connected,
                                                                                    mailchimp_account):
    """The store belongs to its audience in Mailchimp: sending on to another audience through it would file the
    customers in the old one and the consenting contacts as ``transactional`` in the new one."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list)
    error = field_error(response, "list_id")
    assert "To move to another audience: disconnect the shop and delete its store" in error, error
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == list_id and configuration.is_active

    emulator.clear_requests()
    person.first_name = "Renamed"
    person.save()
    assert emulator.get_member(api_key, other_list, person.email) is None
    assert member_puts(emulator, person.email) and emulator.get_member(api_key, list_id, person.email)[
        "merge_fields"]["FNAME"] == "Renamed"
