"""review19: a customer who never ticked the shop's box subscribed on Mailchimp's own sign-up form, and that
``subscribe`` webhook was lost (the shop still believes the member ``transactional``). A stranger then types the
customer's address into the newsletter block. The shop asks Mailchimp for ``pending`` (``consent.requested_change``
for a CONFIRM request on a member it believes transactional), which turns the SUBSCRIBED member back to pending:
their newsletter stops until they click a confirmation link for a subscription they already had. The block's
promise (docs/storefront-signup.rst): "a member subscribed already stays subscribed"; the member write's answer is
read only when the shop believes the member subscribed."""
import pytest
from django.test import Client

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person
from tests.storefront.helpers import signup_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_strangers_press_never_puts_a_subscribed_member_back_to_pending(shop, newsletter_block, configuration,
                                                                          mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    customer = new_person(permission=False, email="reads.already@fastmail.com")
    drain()
    assert emulator.get_member(api_key, list_id, customer.email)["status"] == "transactional"
    emulator.set_member_status(api_key, list_id, customer.email, "subscribed")  # Mailchimp's form; webhook lost

    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/")
    stranger.post(signup_url(), {"email": customer.email, "next": "/",
                                 "csrfmiddlewaretoken": stranger.cookies["csrftoken"].value})
    drain()
    assert emulator.get_member(api_key, list_id, customer.email)["status"] == "subscribed", (
        "a stranger's press put a subscribed member back to pending")
