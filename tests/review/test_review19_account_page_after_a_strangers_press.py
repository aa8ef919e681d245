"""review19: a stranger types a customer's address into the newsletter block. The customer had said no; Mailchimp
mails them a confirmation link (``pending``), which they ignore. Their account page then tells them "Our newsletter
goes to <address>: you subscribed outside your account here (for example on a sign-up form)" and offers "Keep me
subscribed": both untrue (they subscribed nowhere, and a pending member is mailed no newsletter).
``subscriptions.newsletter_status`` counts a ``pending`` member as subscribed elsewhere, also while the shop's
own confirmation request (``ConsentRequest.CONFIRM``) is what made it pending."""
import pytest
from django.test import Client
from shuup.core.models import get_person_contact

from shoop_mailchimp.sync.drainer import drain
from tests.storefront.helpers import account_url, signup_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_a_stranger_signed_up_is_not_told_they_subscribed_elsewhere(
        shop, newsletter_block, configuration, mailchimp_account, django_user_model):
    emulator, api_key, list_id = mailchimp_account
    user = django_user_model.objects.create_user("customer", "said.no@fastmail.com", "pw")
    person = get_person_contact(user)
    person.add_to_shop(shop)
    person.save()
    drain()
    assert emulator.get_member(api_key, list_id, "said.no@fastmail.com")["status"] == "transactional"

    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/")
    stranger.post(signup_url(), {"email": "said.no@fastmail.com", "next": "/",
                                 "csrfmiddlewaretoken": stranger.cookies["csrftoken"].value})
    drain()
    assert emulator.get_member(api_key, list_id, "said.no@fastmail.com")["status"] == "pending"

    customer = Client(enforce_csrf_checks=True)
    customer.force_login(user)
    html = customer.get(account_url()).content.decode().replace("&#39;", "'")
    status = html.split('id="shoop-mailchimp-account-newsletter" data-status="')[1].split('"')[0]
    assert status != "subscribed_elsewhere" and "you subscribed outside your account" not in html, (
        "the page says the newsletter goes to them and that they subscribed on another form")
