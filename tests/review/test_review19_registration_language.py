"""review19: a shopper registers on the Finnish storefront and ticks "Send me the newsletter". The newsletter block
gives a new contact the language of the page (docs/storefront-signup.rst: "Mailchimp's e-mails to them follow it"),
but the registration checkbox does not: Shuup creates the account's contact without a language, so the member
gets none and Mailchimp's confirmation e-mail (double opt-in) and campaigns reach the Finnish shopper in the
audience's default language. The issue: "Language: the member's language from the contact's language"; the two
signup paths the issue asks for disagree."""
import pytest
from django.test import Client
from django.urls import reverse
from shuup.core.models import PersonContact

from shoop_mailchimp.storefront.registration import FIELD_NAME
from shoop_mailchimp.sync.drainer import drain

pytestmark = pytest.mark.django_db


def test_a_shopper_registering_in_finnish_with_the_box_ticked_gets_finnish_emails(shop, configuration,
                                                                                   mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    client = Client(HTTP_ACCEPT_LANGUAGE="fi")
    data = {"username": "lukija", "email": "lukija@fastmail.com", "password1": "A-long-pass-1",
            "password2": "A-long-pass-1", FIELD_NAME: "on"}
    response = client.post(reverse("shuup:registration_register"), data)
    assert response.status_code == 302
    assert response.wsgi_request.LANGUAGE_CODE == "fi"
    person = PersonContact.objects.get(email="lukija@fastmail.com")
    assert person.marketing_permission is True
    drain()
    member = emulator.get_member(api_key, list_id, "lukija@fastmail.com")
    assert member.get("language") == "fi", "contact language %r, member language %r" % (
        person.language, member.get("language"))
