"""review19: the account page's status says "we e-mailed <address> a link" while the shop sends nothing (it is
disconnected from Mailchimp). The POST's own message is honest (``views.RECORDED``: "If we need you to confirm
it, we will e-mail you a link"), but the page shown right after it claims an e-mail that was never sent and will
not be until an admin reconnects."""
import pytest
from django.test import Client
from django.utils import timezone
from shuup.core.models import get_person_contact

from shoop_mailchimp.models import MailchimpLogEntry
from shoop_mailchimp.storefront import views
from tests.storefront.helpers import account_url, page_messages


@pytest.mark.django_db
def test_a_disconnected_shop_does_not_claim_it_mailed_a_confirmation_link(shop, newsletter_block, configuration,
                                                                          django_user_model):
    configuration.double_opt_in = True
    configuration.disconnected_on = timezone.now()
    configuration.save()
    user = django_user_model.objects.create_user("reader", "patient.reader@fastmail.com", "pw")
    get_person_contact(user).add_to_shop(shop)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(account_url())
    response = client.post(account_url(), {"subscribe": "1", "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
                           follow=True)
    assert page_messages(response) == [str(views.RECORDED)]
    assert MailchimpLogEntry.objects.filter(action="storefront.subscribe").exists()
    html = response.content.decode()
    assert "we e-mailed patient.reader@fastmail.com a link" not in html, (
        "nothing was e-mailed: the shop is disconnected and sends nothing to Mailchimp")
