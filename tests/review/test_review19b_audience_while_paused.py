"""review19b: choosing another audience while the shop is paused by a refused key (its store still exists,
tied to the old audience) resumes sending at once, without Initialize, through the old audience's store: the
customers' opt-ins land in the OLD audience and subscribe there a contact who never consented in the shop."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import post_shop_form
from tests.helpers import new_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_audience_chosen_while_paused_never_subscribes_anyone_in_the_old_audience(
        admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False, email="no.consent@fastmail.com")  # a buyer who never consented
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
    # The key was refused for a while (rotated in Mailchimp): the shop is paused; its store and audience stay.
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(
        paused_reason="Mailchimp refused the API key: API Key Invalid")
    # The admin moves to another audience, where the address subscribed on Mailchimp's own form.
    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list).status_code == 302
    drain()

    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    store = emulator.get_store(api_key, configuration.store_id)
    through_old_store = bool(configuration.is_active and store and store["list_id"] == list_id)
    old_status = emulator.get_member(api_key, list_id, person.email)["status"]
    assert not through_old_store and old_status == "transactional", (
        "the shop sends to %s through the store of the old audience %s; the contact without consent is %s there"
        % (other_list, list_id, old_status))
