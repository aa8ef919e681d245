"""review19b: choosing another audience while disconnected forgets at once (state.forget_audience, on the save)
what the shop knew of its members, even when the store is kept and the move cannot happen (Initialize refuses a
store of another audience). An admin who then chooses the old audience again reconnects to it with every contact
"never sent": a consent withdrawn in the shop meanwhile is sent as a first send, which never changes a member, so
the person stays subscribed."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import post_shop_form, url
from tests.helpers import new_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_withdrawal_survives_choosing_another_audience_and_back(admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))  # the store is kept

    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = False  # withdrawn in the admin while disconnected
    person.save()
    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list).status_code == 302
    # Changed their mind (Initialize would refuse: the kept store belongs to the old audience).
    assert post_shop_form(admin_client, connected.shop, list_id=list_id, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed", (
        "the consent withdrawn while disconnected never reached the audience")
