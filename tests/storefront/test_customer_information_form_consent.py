"""Shuup's storefront *Customer Information* and *Company Information* pages and the consent: a page shown before an
unsubscribe, saved with its marketing box as shown, keeps the withdrawal; the shopper's own change decides; the
hidden value that says what was shown is trusted for nothing more (review aud12's admin finding, the storefront's
side of it)."""
import pytest
from django.test import Client
from shuup.core.models import Contact, get_person_contact
from shuup.utils.django_compat import reverse

from shoop_mailchimp import shop_consent
from tests.admin.test_contact_form_consent import form_as_shown
from tests.helpers import send_due
from tests.storefront.helpers import customer_information_post
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]

SHOWN = "contact-mailchimp_consent_shown"
BOX = "contact-marketing_permission"


def page_as_shown(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return form_as_shown(page.content.decode())


def subscribed_shopper(shopper_user, shopper_client, mailchimp_account):  # noqa: F811
    """The shopper proved their address and ticked the box on the page: subscribed."""
    emulator, api_key, list_id = mailchimp_account
    person = get_person_contact(shopper_user)
    shop_consent.record_proof(person.pk, shopper_user.email)
    customer_information_post(shopper_client, email=shopper_user.email, marketing_permission="on")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    return person


def unsubscribe(configuration, mailchimp_account, email):
    emulator, api_key, list_id = mailchimp_account
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=email, action="unsub",
                      reason="manual").status_code == 200


def test_a_customer_information_page_shown_before_an_unsubscribe_and_saved_as_shown_keeps_the_withdrawal(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """The shopper opens *Customer Information* (the box shows ticked). Meanwhile they unsubscribe through a letter's
    link; the webhook withdraws the consent. Back on the open page they change their phone number and save, the box
    as it was shown. The consent stays withdrawn and Mailchimp is not asked to subscribe them again."""
    emulator, api_key, list_id = mailchimp_account
    person = subscribed_shopper(shopper_user, shopper_client, mailchimp_account)
    url = reverse("shuup:customer_edit")
    data = page_as_shown(shopper_client, url)
    assert data[BOX]
    unsubscribe(configuration, mailchimp_account, shopper_user.email)
    assert Contact.objects.get(pk=person.pk).marketing_permission is False
    data["contact-phone"] = ["+358401112223"]
    assert shopper_client.post(url, data).status_code == 302
    person = Contact.objects.get(pk=person.pk)
    assert person.phone == "+358401112223", "the save did not go through"
    send_due(rounds=2)
    assert person.marketing_permission is False, "the page saved as shown gave the withdrawn consent back"
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "unsubscribed"
    assert data[SHOWN] == ["True"], "the page carries its box as shown"


def test_the_shopper_ticking_the_box_again_on_a_page_shown_after_the_unsubscribe_subscribes_them(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """The shopper's own change decides: after the unsubscribe the page shows the box unticked; they tick it and save:
    consent given, Mailchimp is asked to have them back (a member who unsubscribed is in Mailchimp's compliance state:
    asked to confirm, ``pending``)."""
    emulator, api_key, list_id = mailchimp_account
    person = subscribed_shopper(shopper_user, shopper_client, mailchimp_account)
    unsubscribe(configuration, mailchimp_account, shopper_user.email)
    url = reverse("shuup:customer_edit")
    data = page_as_shown(shopper_client, url)
    assert BOX not in data and data[SHOWN] == ["False"]
    data[BOX] = ["on"]
    assert shopper_client.post(url, data).status_code == 302
    send_due(rounds=2)
    assert Contact.objects.get(pk=person.pk).marketing_permission is True
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "pending"


def test_a_forged_shown_value_on_the_customer_information_page_gives_no_consent(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """The shopper unsubscribed; a page posted with a forged value (it claims the box showed ticked, or holds junk)
    and the box unticked gives no consent; posted ticked with the value claiming it showed ticked, the consent the
    database holds (none) is kept. A hostile value sent back with errors is shown escaped."""
    emulator, api_key, list_id = mailchimp_account
    person = subscribed_shopper(shopper_user, shopper_client, mailchimp_account)
    unsubscribe(configuration, mailchimp_account, shopper_user.email)
    url = reverse("shuup:customer_edit")
    for forged, box in [("True", False), ("False", False), ("<b>x</b>", False), ("1", True), ("True", True)]:
        data = page_as_shown(shopper_client, url)
        data[SHOWN] = [forged]
        if box:
            data[BOX] = ["on"]
        else:
            data.pop(BOX, None)
        assert shopper_client.post(url, data).status_code == 302
        assert Contact.objects.get(pk=person.pk).marketing_permission is False, (forged, box)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "unsubscribed"

    data = page_as_shown(shopper_client, url)
    data[SHOWN] = ['"><script>alert(1)</script>']
    data["contact-first_name"] = [""]
    response = shopper_client.post(url, data)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_a_company_information_page_shown_before_an_unsubscribe_and_saved_as_shown_keeps_the_withdrawal(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """The same on *Company Information*: the company consents (its page saved with the box ticked); the page is
    opened, the company's address unsubscribes, the page is saved as shown: the withdrawal stays."""
    from shuup import configuration as shuup_configuration
    from shuup.core.models import CompanyContact

    emulator, api_key, list_id = mailchimp_account
    shuup_configuration.set(None, "allow_company_registration", True)
    email = "tess.trading@fastmail.com"
    url = reverse("shuup:company_edit")
    assert shopper_client.get(url).status_code == 200
    data = {"csrfmiddlewaretoken": shopper_client.cookies["csrftoken"].value, "contact-name": "Tess Trading",
            "contact-tax_number": "FI-7654321", "contact-email": email, BOX: "on"}
    for prefix in ("billing", "shipping"):
        data.update({"%s-name" % prefix: "Tess Trading", "%s-street" % prefix: "Main Street 1",
                     "%s-city" % prefix: "Turku", "%s-postal_code" % prefix: "20100", "%s-country" % prefix: "FI"})
    assert shopper_client.post(url, data).status_code == 302
    company = CompanyContact.objects.get(email=email)
    assert company.marketing_permission is True
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email) is not None

    data = page_as_shown(shopper_client, url)
    assert data[BOX]
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=email, action="unsub",
                      reason="manual").status_code == 200
    assert Contact.objects.get(pk=company.pk).marketing_permission is False
    data["contact-phone"] = ["+358401112224"]
    assert shopper_client.post(url, data).status_code == 302
    company = Contact.objects.get(pk=company.pk)
    assert company.phone == "+358401112224"
    send_due(rounds=2)
    assert company.marketing_permission is False
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert data[SHOWN] == ["True"], "the page carries its box as shown"
