"""Found by independent review aud32 (issue 19), F3 (consent): the registration box's wish, an unsubscribe made after
it, then the activation link."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.storefront.test_registration import activate_account, register
from tests.webhooks.helpers import mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_an_unsubscribe_after_the_registration_box_is_honoured_at_activation(
        shop, configuration, mailchimp_account, client, settings):
    """Harm: Una's own unsubscribe, made after she ticked the registration box and before she clicked the account's
    activation link, is overridden: at activation the shop records her marketing permission again (her account page
    and the shop's consent record say she consents) and sends it, so Mailchimp puts her member back to ``pending``
    and mails her a confirmation request she never asked for (under the shop's reading she consents: any later
    send of that consent, e.g. to another audience after an Initialize, goes as given).

    Steps: Una bought as a guest with the box ticked (member subscribed). She registers an account (activation
    required) with the newsletter box ticked: the wish waits in the log (``storefront.registration``). She then
    unsubscribes through a newsletter's link (the ``unsubscribe`` webhook reaches the shop; her inactive account's
    contact is among the address's contacts). Days later she clicks the activation link:
    ``storefront/subscriptions.py: subscribe_after_activation`` turns the wish into consent checking only whether
    it was used already, not whether she withdrew after making it."""
    settings.SHUUP_REGISTRATION_REQUIRES_ACTIVATION = True
    from tests.sync.test_guest_orders import guest_order
    emulator, api_key, list_id = mailchimp_account
    email = "wish.then.unsub@fastmail.com"
    guest_order(shop, email, marketing_permission=True, name="Una Guest")  # she subscribed as a guest buyer
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    person = register(Client(), "una", ticked=True, activate=False, email=email)  # T0: the wish
    send_due(rounds=2)
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")  # T1: a newsletter's link
    assert client.post(webhook_path(configuration), mailchimp_form(
        "unsubscribe", list_id, email=email, action="unsub", reason="manual")).status_code == 200
    send_due(rounds=2)
    activate_account(person)  # T2: she activates her account (to log in)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "unsubscribed", (
        "her unsubscribe is overridden by an older wish: the member is %s" % member["status"])
    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
