"""review19: a disconnect that deleted the store, then a reconnect to ANOTHER audience (the audience id is still
editable on the shop page while disconnected). The re-created store lives in the new audience, which knows none
of the shop's members: a contact who consented must be subscribed there, as a first send to a fresh audience does.
The reconnect keeps every row's member status, consent last sent and applied tags of the OLD audience
(``state.requeue_for_new_store``), so the consenting contact is written to the new audience as ``transactional``
(``status_if_new`` of a "known member"): the shop's consent never reaches the audience it now sends to."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from tests.admin.conftest import post_shop_form
from tests.disconnect.conftest import url
from tests.helpers import new_person, row_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconnect_to_another_audience_subscribes_the_consenting_contacts(admin_client, connected,
                                                                          mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
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


def test_choosing_another_audience_while_connected_subscribes_the_consenting_contacts(admin_client, connected,
                                                                                       mailchimp_account):
    """The same without a disconnect: the audience id stays editable on an initialized shop, and the next send
    of a consenting contact writes them to the new audience as ``transactional`` (the row still holds the old
    audience's member status)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list)
    assert response.status_code == 302
    assert MailchimpConfiguration.objects.get(pk=connected.pk).list_id == other_list

    person.first_name = "Renamed"
    person.save()
    member = emulator.get_member(api_key, other_list, person.email)
    assert member is not None and member["status"] == "subscribed", (
        "the contact consented in the shop; the new audience holds them as %r"
        % (member or {}).get("status"))
