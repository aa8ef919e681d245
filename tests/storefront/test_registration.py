"""The newsletter checkbox on Shuup's registration form: shown where the shop sends to Mailchimp, unticked by
default, and only ticking it gives consent."""
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpLogEntry
from shoop_mailchimp.storefront.registration import FIELD_NAME
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import row_of

REGISTER_URL_NAME = "shuup:registration_register"


def register(client, username, ticked):
    data = {"username": username, "email": "%s@fastmail.com" % username, "password1": "A-long-pass-1",
            "password2": "A-long-pass-1"}
    if ticked:
        data[FIELD_NAME] = "on"
    response = client.post(reverse(REGISTER_URL_NAME), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PersonContact.objects.get(email="%s@fastmail.com" % username)


@pytest.mark.django_db
def test_the_checkbox_is_offered_unticked_where_the_shop_sends_to_mailchimp(shop, configuration):
    page = Client().get(reverse(REGISTER_URL_NAME)).content.decode()
    assert 'name="%s"' % FIELD_NAME in page
    assert "checked" not in page.split('name="%s"' % FIELD_NAME)[0].rsplit("<input", 1)[1]


@pytest.mark.django_db
def test_no_checkbox_where_the_shop_does_not_use_mailchimp(shop):
    assert FIELD_NAME not in Client().get(reverse(REGISTER_URL_NAME)).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["unticked", "disconnected"])
def test_no_checkbox_where_the_shop_only_records_changes(shop, configuration, change):
    """A shop with "Send changes to Mailchimp" unticked, or disconnected, still records changes to send them
    later, but promises no newsletter on its registration form (the newsletter block says so too)."""
    if change == "unticked":
        configuration.enabled = False
    else:
        configuration.disconnected_on = timezone.now()
    configuration.save()
    assert FIELD_NAME not in Client().get(reverse(REGISTER_URL_NAME)).content.decode()
    assert register(Client(), "sees.no.box", ticked=True).marketing_permission is False


@pytest.mark.django_db
def test_a_box_the_form_did_not_show_gives_nothing(shop):
    assert register(Client(), "forges.the.box", ticked=True).marketing_permission is False


@pytest.mark.django_db
def test_ticking_the_box_gives_consent_and_records_the_contact(shop, configuration):
    person = register(Client(), "ticks.the.box", ticked=True)
    assert person.marketing_permission is True
    assert row_of(person).version >= 1
    assert MailchimpLogEntry.objects.get(action="storefront.subscribe", contact_id=person.pk).message == (
        "The shopper gave consent on the registration form.")


@pytest.mark.django_db
def test_an_unticked_box_gives_no_consent(shop, configuration):
    assert register(Client(), "leaves.it.blank", ticked=False).marketing_permission is False
    assert not MailchimpLogEntry.objects.filter(action="storefront.subscribe").exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_new_account_that_ticked_the_box_is_pending_in_mailchimp(
        shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    configuration.double_opt_in = True
    configuration.save()
    page = Client().get(reverse(REGISTER_URL_NAME)).content.decode()
    assert "We will e-mail you a link to confirm." in page

    register(Client(), "new.account", ticked=True)
    assert emulator.get_member(api_key, list_id, "new.account@fastmail.com")["status"] == "pending"


@pytest.mark.django_db
def test_a_shopper_registering_in_finnish_with_the_box_ticked_gets_finnish_emails(shop, configuration,
                                                                                   mailchimp_account):
    """As the newsletter block gives a new contact: the page's language, which Mailchimp's e-mails follow."""
    emulator, api_key, list_id = mailchimp_account
    person = register(Client(HTTP_ACCEPT_LANGUAGE="fi"), "lukija", ticked=True)
    assert (person.marketing_permission, person._language) == (True, "fi")
    drain()
    assert emulator.get_member(api_key, list_id, person.email).get("language") == "fi"
