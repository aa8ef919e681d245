"""Every Mailchimp admin page in Chromium, fed by hostile customers, staff and Mailchimp: no script may run.

Each payload calls ``alert``; any dialog, any uncaught page error and any console error fails the
test. The walk includes the chain that ran a script before: a customer's address Mailchimp
echoes in its error, shown after "Sync now" on the contact's page.
"""

import pytest
import requests
from django.urls import reverse
from shuup.core.models import ContactGroup

from shoop_mailchimp.models import JobKind, MailchimpConfiguration, MailchimpLogEntry, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from shoop_mailchimp.webhook_registration import check_webhook
from tests.admin.test_browser import chromium_page
from tests.helpers import new_person
from tests.security.hostile import (
    FIRST_NAME,
    GROUP_NAME,
    LAST_NAME,
    MAILCHIMP_DETAIL,
    SCRIPT_BREAKING_EMAIL,
)
from tests.webhooks.helpers import mailchimp_form, webhook_path

#: The shop and contact pages show one section at a time; this link opens the Mailchimp one.
SECTION_LINK = ".section-navigation >> text=Mailchimp"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


class Watch:
    """What the page did that it must not: dialogs opened, errors thrown, errors logged.

    Static files the live server lacks (Shuup's favicon) are no injected script; an injected
    ``<img src=x>`` loads the page's own ``x``, which is caught.
    """

    def __init__(self, page, static_url):
        self.dialogs, self.page_errors, self.console_errors = [], [], []
        self.static_url = static_url
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.page_errors.append("%s: %s" % (page.url, error)))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message):
        source = message.location.get("url") or ""
        if message.type == "error" and not source.startswith(self.static_url):
            self.console_errors.append("%s: %s (%s)" % (page.url, message.text, source))

    def _dialog(self, dialog):
        self.dialogs.append("%s: %s %r" % (dialog.page.url, dialog.type, dialog.message))
        dialog.dismiss()

    def assert_nothing_ran(self, where):
        assert (self.dialogs, self.page_errors, self.console_errors) == ([], [], []), where


@pytest.fixture
def watched_page(live_server, settings):
    with chromium_page() as page:
        yield page, Watch(page, live_server.url + settings.STATIC_URL)


def hostile_shop(configuration, mailchimp_account, live_server):
    """Hostile names, e-mails, a group, an audience, Mailchimp errors and webhook events, all in the admin."""
    emulator, api_key, list_id = mailchimp_account
    emulator.add_list(api_key, name="</option></select><script>alert(7)</script>")
    group = ContactGroup.objects.create(shop=configuration.shop, identifier="hostile", name=GROUP_NAME)
    named = new_person(first_name=FIRST_NAME, last_name=LAST_NAME)
    group.members.add(named)
    emulator.faults.fail_email(SCRIPT_BREAKING_EMAIL)  # Mailchimp echoes the address in its "looks fake"
    echoed = new_person(email=SCRIPT_BREAKING_EMAIL, first_name=FIRST_NAME)
    emulator.faults.fail_email("refused@fastmail.com", detail=MAILCHIMP_DETAIL)
    refused = new_person(email="refused@fastmail.com", last_name=LAST_NAME)
    group.members.add(echoed, refused)
    requests.post(live_server.url + webhook_path(configuration),
                  data=mailchimp_form("unsubscribe", list_id, email=named.email, reason=MAILCHIMP_DETAIL))
    request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    run_due_jobs()  # the drainer lists the account's audiences, the hostile one too
    drain()  # the check read the audience's merge fields: everyone is sent again with them, and refused again
    emulator.faults.fail("/lists/*/webhooks", method="GET", status=400, detail=MAILCHIMP_DETAIL)
    check_webhook(configuration)  # the drainer's health check stores Mailchimp's hostile answer
    for person in (echoed, refused):
        assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.FAILED
    return named, echoed, refused


def test_no_hostile_text_runs_on_any_mailchimp_admin_page(watched_page, live_server, configuration,
                                                          mailchimp_account, admin_user):
    page, watch = watched_page
    named, echoed, refused = hostile_shop(configuration, mailchimp_account, live_server)
    base = live_server.url

    def visit(path, ready_selector):
        page.goto(base + path)
        page.wait_for_selector(ready_selector)
        page.wait_for_load_state("networkidle")
        watch.assert_nothing_ran(path)

    page.goto(base + reverse("shuup_admin:login"))
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    visit(reverse("shuup_admin:shoop_mailchimp.status"), "#mailchimp-status")
    assert "alert(5)" in page.inner_text(".mailchimp-webhook-unknown"), "Mailchimp's text is shown, as text"
    visit(reverse("shuup_admin:shoop_mailchimp.log"), "td >> text=Unsubscribed in Mailchimp")
    assert "alert(5)" in page.inner_text("table"), "the log list shows the messages, as text"
    error = MailchimpLogEntry.objects.filter(kind="error", message__contains="alert(5)").first()
    visit(reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": error.pk}), "#mailchimp-log-extra")
    assert "alert(5)" in page.inner_text("#mailchimp-log-extra")
    visit(reverse("shuup_admin:shoop_mailchimp.failed"), "#mailchimp-failed")
    assert SCRIPT_BREAKING_EMAIL in page.inner_text("#mailchimp-failed")

    visit(reverse("shuup_admin:shop.edit", kwargs={"pk": configuration.shop_id}), SECTION_LINK)
    page.click(SECTION_LINK)
    page.wait_for_selector("#id_mailchimp-audience", state="visible")
    assert "alert(7)" in page.inner_text("#id_mailchimp-audience"), "the hostile audience is an option, as text"
    watch.assert_nothing_ran("shop edit page, Mailchimp section")

    for person in (named, echoed, refused):
        visit(reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk}), SECTION_LINK)
        page.click(SECTION_LINK)
        page.wait_for_selector("#mailchimp-contact-section", state="visible")
        watch.assert_nothing_ran("contact %s, Mailchimp section" % person.pk)
        if person is named:
            continue
        with page.expect_navigation():
            page.click("#mailchimp-sync-contact")
        page.wait_for_load_state("networkidle")
        watch.assert_nothing_ran("contact %s after Sync now" % person.pk)
        page.wait_for_selector("#message-container .message")
        assert "The contact is queued for Mailchimp" in page.inner_text("#message-container")
        page.click(SECTION_LINK)
        section = page.inner_text("#mailchimp-contact-section")
        assert "alert(5)" in section or "<script>alert(1)</script>" in section, "Mailchimp's refusal, as text"

    # Mailchimp refuses the key with a hostile text: the shop pauses and both pages show why.
    emulator = mailchimp_account[0]
    emulator.faults.fail("/lists/*/members/*", status=401, detail=MAILCHIMP_DETAIL)
    named.first_name = "Changed"
    named.save()
    assert "alert(5)" in MailchimpConfiguration.objects.get(pk=configuration.pk).paused_reason
    visit(reverse("shuup_admin:shoop_mailchimp.status"), "#mailchimp-paused-reason")
    visit(reverse("shuup_admin:shop.edit", kwargs={"pk": configuration.shop_id}), SECTION_LINK)
    page.click(SECTION_LINK)
    page.wait_for_selector("#mailchimp-paused-reason", state="visible")
    assert "alert(5)" in page.inner_text("#mailchimp-paused-reason")
    watch.assert_nothing_ran("paused shop's pages")
