"""The admin's contact edit form and the consent: a form shown before a webhook changed the consent, saved with its
marketing box as shown, keeps the consent the database holds; a box the staff changed decides; the hidden value that
says what was shown is trusted for nothing more (found by independent review aud12)."""
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from shuup.core.models import Contact

from shoop_mailchimp.consent_shown import CONSENT_AS_SHOWN
from tests.helpers import new_person, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


class _FormFields(HTMLParser):
    """The values a browser posts for the page's main form (inputs, checkboxes, selected options, textareas)."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and not attrs.get("disabled") is not None:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image"):
                self.data.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.append((name, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            name, value = self.data[-1]
            self.data[-1] = (name, value + data)


def form_as_shown(html):
    parser = _FormFields()
    parser.feed(html)
    data = {}
    for name, value in parser.data:
        data.setdefault(name, [])
        data[name].append(value)
    return data


def test_an_admin_form_shown_before_an_unsubscribe_and_saved_unchanged_keeps_the_withdrawal(
        shop, configuration, mailchimp_account, admin_client):
    """The staff open Vera's contact in the admin (the marketing box shows ticked: she consents). Meanwhile Vera
    unsubscribes from the newsletter; the webhook withdraws her consent. The staff correct her phone number and
    press Save, the marketing box as it was shown. Vera's consent is back on (the shop records a consent she
    withdrew, and Mailchimp is asked to re-subscribe/confirm her): Django reloads the contact at the POST, so the
    instance is not stale (``contact_saving`` sees loaded=False, permission=True: "a save that changed it") and
    ``stored_consent`` never comes into play. The changelog claims a save that leaves the box as shown (the
    admin's form) keeps the consent the database holds."""
    emulator, api_key, list_id = mailchimp_account
    email = "vera.adminform@fastmail.com"
    vera = new_person(permission=True, email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    url = reverse("shuup_admin:contact.edit", kwargs={"pk": vera.pk})
    page = admin_client.get(url)
    assert page.status_code == 200
    data = form_as_shown(page.content.decode())
    box = [name for name in data if name.endswith("marketing_permission")]
    assert box and data[box[0]], "the form shows the box ticked: %r" % box
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")
    assert post_event(admin_client, configuration, "unsubscribe", email=email, action="unsub",
                      reason="manual").status_code == 200
    assert Contact.objects.get(pk=vera.pk).marketing_permission is False
    phone = [name for name in data if name.endswith("phone")][0]
    data[phone] = ["+358401234567"]
    response = admin_client.post(url, data)
    assert response.status_code in (200, 302)
    vera = Contact.objects.get(pk=vera.pk)
    assert vera.phone == "+358401234567", "the admin save did not go through (form errors?)"
    send_due(rounds=2)
    assert vera.marketing_permission is False, (
        "saving the admin form as shown before the unsubscribe gave the withdrawn consent back")
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"


def edit_url(contact):
    return reverse("shuup_admin:contact.edit", kwargs={"pk": contact.pk})


def shown_form(admin_client, contact):
    page = admin_client.get(edit_url(contact))
    assert page.status_code == 200
    return form_as_shown(page.content.decode())


def field(data, suffix):
    return [name for name in data if name.endswith(suffix)][0]


@pytest.mark.parametrize("tick", [True, False])
def test_a_box_the_staff_change_decides(shop, configuration, mailchimp_account, admin_client, tick):
    """The hidden value stops nothing the staff do: a box ticked on a form that showed it unticked gives consent
    (Mailchimp subscribes the person), a box unticked on a form that showed it ticked withdraws it."""
    emulator, api_key, list_id = mailchimp_account
    email = "walt.admin%s@fastmail.com" % tick
    walt = new_person(permission=not tick, email=email)
    send_due(rounds=2)
    data = shown_form(admin_client, walt)
    assert data["mailchimp_consent-shown"] == [str(not tick)]
    box = "base-marketing_permission"
    if tick:
        data[box] = ["on"]
    else:
        del data[box]
    assert admin_client.post(edit_url(walt), data).status_code == 302
    send_due(rounds=2)
    assert Contact.objects.get(pk=walt.pk).marketing_permission is tick
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == ("subscribed" if tick else "unsubscribed")


def test_a_form_shown_before_a_subscription_and_saved_unticked_as_shown_keeps_it(
        shop, configuration, mailchimp_account, admin_client):
    """The other direction: the form showed the box unticked; meanwhile the person gave consent (another request
    saves them: their account page, a checkout's box); the staff save the form with the box as shown. The consent
    stays."""
    emulator, api_key, list_id = mailchimp_account
    email = "xena.adminform@fastmail.com"
    xena = new_person(permission=False, email=email)
    send_due(rounds=2)
    data = shown_form(admin_client, xena)
    assert "base-marketing_permission" not in data and "base-phone" in data
    elsewhere = Contact.objects.get(pk=xena.pk)
    elsewhere.marketing_permission = True
    elsewhere.save()
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    data[field(data, "phone")] = ["+358409876543"]
    assert admin_client.post(edit_url(xena), data).status_code == 302
    xena = Contact.objects.get(pk=xena.pk)
    assert (xena.phone, xena.marketing_permission) == ("+358409876543", True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"


FORGED = ["True", "true", "1", "False", "0", "", "None", "2", "<script>alert('x')</script>", "\x00", "x" * 5000]


def test_a_forged_shown_value_gives_no_consent_the_box_and_the_database_do_not(
        shop, configuration, mailchimp_account, admin_client):
    """Whatever the hidden value says, the saved consent is the one the database holds or the box as posted: for
    people who hold none, an unticked box gives none, and a ticked one gives one only where it is a change from what
    the value claims was shown (which a fresh, honest form allows the staff as well); a value that is not a boolean
    is nothing (the save is judged against the contact as loaded: the tick decides)."""
    emulator, api_key, list_id = mailchimp_account
    cases = [(forged, tick, new_person(permission=False, email="yuri.forged%d@fastmail.com" % number))
             for number, (forged, tick) in enumerate((forged, tick) for forged in FORGED for tick in (True, False))]
    send_due(rounds=2)
    for forged, tick, person in cases:
        data = shown_form(admin_client, person)
        data["mailchimp_consent-shown"] = [forged]
        if tick:
            data["base-marketing_permission"] = ["on"]
        else:
            data.pop("base-marketing_permission", None)
        assert admin_client.post(edit_url(person), data).status_code == 302
    send_due(rounds=3)
    wrong = []
    for forged, tick, person in cases:
        consent = Contact.objects.get(pk=person.pk).marketing_permission
        member = emulator.get_member(api_key, list_id, person.email)
        subscribed = member is not None and member["status"] == "subscribed"
        expected = tick and forged.lower() not in ("true", "1")
        if (consent, subscribed) != (expected, expected):
            wrong.append((forged[:20], tick, consent, subscribed))
    assert wrong == []


def test_a_hostile_shown_value_is_not_echoed_raw_and_is_forgotten_with_an_unsaved_form(
        shop, configuration, admin_client):
    """A form sent back with errors shows the posted hidden value escaped; nothing is saved, and the value is not
    left on any contact for a later save."""
    zoe = new_person(permission=False, email="zoe.hostile@fastmail.com")
    data = shown_form(admin_client, zoe)
    data["mailchimp_consent-shown"] = ['"><script>alert(1)</script>']
    data[field(data, "first_name")] = [""]
    response = admin_client.post(edit_url(zoe), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert 'name="mailchimp_consent-shown"' in html
    zoe = Contact.objects.get(pk=zoe.pk)
    assert not hasattr(zoe, CONSENT_AS_SHOWN) and zoe.marketing_permission is False


def test_a_company_form_shown_before_an_unsubscribe_and_saved_unchanged_keeps_the_withdrawal(
        shop, configuration, mailchimp_account, admin_client):
    """The same on a company's edit form (Shuup's company base form part)."""
    from shuup.core.models import CompanyContact

    emulator, api_key, list_id = mailchimp_account
    email = "acme.adminform@fastmail.com"
    acme = CompanyContact.objects.create(name="Acme Oy", email=email, marketing_permission=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    data = shown_form(admin_client, acme)
    assert data["base-marketing_permission"]
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")
    assert post_event(admin_client, configuration, "unsubscribe", email=email, action="unsub",
                      reason="manual").status_code == 200
    data["base-phone"] = ["+358401234560"]
    assert admin_client.post(edit_url(acme), data).status_code == 302
    acme = Contact.objects.get(pk=acme.pk)
    assert acme.phone == "+358401234560"
    send_due(rounds=2)
    assert acme.marketing_permission is False
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert data["mailchimp_consent-shown"] == ["True"]
