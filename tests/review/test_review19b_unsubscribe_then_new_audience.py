"""review19b: a shopper presses Unsubscribe on the account page while the shop is disconnected; the admin then
moves the shop to another audience, into which the marketer imported the old audience's subscribers. The
shopper's request (``ConsentRequest.UNSUBSCRIBE``) survives ``state.forget_audience``, but with the member status
forgotten ``consent.requested_change`` no longer sends it: the reconnect leaves the shopper subscribed in the new
audience, and clears the request as done."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import post_shop_form, url
from tests.helpers import new_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unsubscribe_pressed_while_disconnected_reaches_the_new_audience(admin_client, connected,
                                                                            mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})

    subscriptions.withdraw_consent(connected.shop, PersonContact.objects.get(pk=person.pk))  # account page
    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")  # the marketer's import
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
    assert emulator.get_member(api_key, other_list, person.email)["status"] == "unsubscribed", (
        "the shopper pressed Unsubscribe, and the shop's audience still mails them")
