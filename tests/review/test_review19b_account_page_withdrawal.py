"""review19b: the account page's messages are honest in each state. While the shop sends nothing to Mailchimp
(disconnected, paused, "Send changes" unticked) a consent is answered "recorded", but an Unsubscribe is answered
"You are unsubscribed: we will not send you our newsletter." and the page then says "You are not subscribed",
while the member stays subscribed in the audience (kept by the disconnect, and used by campaigns) until the shop
is reconnected: the shopper keeps getting the newsletter they were told had stopped."""
import pytest
from django.test import Client
from django.utils import timezone
from shuup.core.models import get_person_contact

from shoop_mailchimp.sync.drainer import drain
from tests.storefront.helpers import account_url, page_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(shop, django_user_model):
    user = django_user_model.objects.create_user("shopper", "shopper@fastmail.com", "pw")
    person = get_person_contact(user)
    person.add_to_shop(shop)
    return user


def choose(client, subscribe):
    client.get(account_url())
    token = client.cookies["csrftoken"].value
    return client.post(account_url(), {"subscribe": "1" if subscribe else "0", "csrfmiddlewaretoken": token},
                       follow=True)


def test_an_unsubscribe_while_disconnected_is_not_claimed_done(shop, shopper, newsletter_block, configuration,
                                                               mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    choose(client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, shopper.email)["status"] == "subscribed"
    configuration.disconnected_on = timezone.now()
    configuration.save()

    response = choose(client, subscribe=False)
    drain()

    assert emulator.get_member(api_key, list_id, shopper.email)["status"] == "subscribed"  # nothing is sent
    assert page_messages(response) != ["You are unsubscribed: we will not send you our newsletter."], (
        "the shopper is told the newsletter stopped; the audience still mails them")
    assert "You are not subscribed to our newsletter." not in client.get(account_url()).content.decode()


def test_a_subscription_recorded_while_disconnected_is_not_shown_as_done(shop, shopper, newsletter_block,
                                                                         configuration, mailchimp_account):
    """Single opt-in: the press is answered "your subscription is recorded", then the page says "You are
    subscribed to our newsletter" although Mailchimp was sent nothing (and may hold the address unsubscribed)."""
    emulator, api_key, list_id = mailchimp_account
    configuration.disconnected_on = timezone.now()
    configuration.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)

    choose(client, subscribe=True)
    drain()

    assert emulator.get_member(api_key, list_id, shopper.email) is None  # nothing was sent
    html = client.get(account_url()).content.decode()
    assert "You are subscribed to our newsletter" not in html, "the page claims a subscription nobody made yet"
