"""review19b: a contact deleted while the shop is disconnected is erased "wherever it had been sent"
(receivers/contacts.contact_deleted). When another audience is then chosen (state.forget_audience keeps the
erasure rows as they were), the reconnect sends the permanent delete to the NEW audience, which the shop never
sent the person to: a member of the new audience (subscribed on its own form) is deleted for good, while the old
audience, where the shop had sent the person, keeps them."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import post_shop_form, url
from tests.helpers import new_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_erasure_recorded_while_disconnected_never_deletes_a_member_of_the_new_audience(
        admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    person.delete()  # recorded: erased in Mailchimp once the shop sends again

    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")  # its own sign-up form
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert emulator.get_member(api_key, other_list, person.email) is not None, (
        "the shop permanently deleted a member of the new audience it never sent")
