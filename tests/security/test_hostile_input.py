"""What customers and Mailchimp control reaches the admin as text, never as markup or script.

The browser walk in test_hostile_admin_in_a_browser.py proves it where it counts; these tests pin the
chain that ran a script in Chromium, at the HTTP level, for the fast suite.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.validators import validate_email
from django.urls import reverse

import shoop_mailchimp
from shoop_mailchimp.admin_module.messages import script_safe
from shoop_mailchimp.models import SyncState, SyncStatus
from tests.helpers import new_person
from tests.security.hostile import MAILCHIMP_DETAIL, SCRIPT_BREAKING_EMAIL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


class InjectedMarkup(HTMLParser):
    """Scripts and event handler attributes that are one of the payloads' ``alert(N)``.

    Shuup's own handlers that quote a contact's e-mail in a JavaScript string are no injection.
    """

    def __init__(self, html):
        super().__init__()
        self.found, self._in_script = [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.found.extend("%s %s=%s" % (tag, name, value) for name, value in attrs
                          if name.startswith("on") and re.match(r"\s*alert\(\d\)", value or ""))

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and re.match(r"\s*alert\(\d\)", data):
            self.found.append("script %s" % data.strip())


def test_the_address_mailchimp_echoes_cannot_leave_the_message_script_after_sync_now(
    configuration, mailchimp_account, admin_client
):
    emulator = mailchimp_account[0]
    validate_email(SCRIPT_BREAKING_EMAIL)  # a customer can register with it
    emulator.faults.fail_email(SCRIPT_BREAKING_EMAIL)  # "<address> looks fake or invalid, ..."
    person = new_person(email=SCRIPT_BREAKING_EMAIL)
    assert SCRIPT_BREAKING_EMAIL in SyncState.objects.contacts().get(object_id=person.pk).last_error

    response = admin_client.post(reverse("shuup_admin:shoop_mailchimp.sync_contact", kwargs={"pk": person.pk}),
                                 follow=True)

    html = response.content.decode("utf-8")
    assert InjectedMarkup(html).found == []
    assert "Messages.enqueue" in html and "The contact is queued for Mailchimp" in html
    # The section shows Mailchimp's refusal, with the address, as text.
    assert "looks fake or invalid" in html and "<script>alert(1)</script>" not in html


def test_mailchimps_error_text_stays_text_on_every_page_that_shows_it(configuration, mailchimp_account,
                                                                      admin_client):
    emulator = mailchimp_account[0]
    emulator.faults.fail("/lists/*/members/*", status=400, detail=MAILCHIMP_DETAIL)
    person = new_person()
    state = SyncState.objects.contacts().get(object_id=person.pk)
    assert state.status == SyncStatus.FAILED and MAILCHIMP_DETAIL in state.last_error
    pages = [reverse("shuup_admin:shoop_mailchimp.status"), reverse("shuup_admin:shoop_mailchimp.failed"),
             reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk})]
    for page in pages:
        html = admin_client.get(page).content.decode("utf-8")
        assert "alert(5)" in html, "%s shows the error" % page
        assert InjectedMarkup(html).found == [], page


def test_messages_swap_angle_brackets_for_look_alikes():
    assert script_safe("</script><b>&amp;") == "\u2039/script\u203a\u2039b\u203a&amp;"


def test_every_admin_message_goes_through_the_script_safe_functions():
    package = Path(shoop_mailchimp.__file__).parent
    helper = package / "admin_module" / "messages.py"
    for path in package.rglob("*.py"):
        if path != helper:
            assert "django.contrib import messages" not in path.read_text(), path
            assert "django.contrib.messages" not in path.read_text(), path
