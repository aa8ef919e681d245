"""The whole admin story in a real Chromium: configure, initialize, watch a contact sync, repair a failure."""
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.urls import reverse

from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry, SyncState, SyncStatus
from tests.helpers import missing, new_person

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]

def chromium_driver():
    """playwright's sync API, once Debian's Chromium is known to be there."""
    if not os.path.exists(CHROMIUM):
        missing("Debian's chromium is not at %s" % CHROMIUM)
    from playwright import sync_api

    return sync_api


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@contextmanager
def chromium_page(width=1400, height=1000):
    """A fresh page in Debian's Chromium, 20 s timeouts; closed (with the browser) afterwards."""
    sync_api = chromium_driver()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(20000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def browser_page():
    with chromium_page() as page:
        problems = []
        page.on("pageerror", lambda error: problems.append("page error: %s" % error))
        # Shuup 3.1's admin asks for /static/img/shuup.ico, which it does not ship: that 404 is not ours.
        page.on("console", lambda message: problems.append("console: %s" % message.text)
                if message.type == "error" and "404" not in message.text else None)
        page.on("dialog", lambda dialog: (problems.append("dialog: %s" % dialog.message), dialog.dismiss()))
        page.on("response", lambda response: problems.append("%s %s" % (response.status, response.url))
                if response.status >= 400 and not response.url.endswith("/shuup.ico") else None)
        page.problems = problems
        yield page
    assert problems == [], "the pages ran without errors or dialogs"


def shoot(page, name):
    page.screenshot(path=str(ARTIFACTS / ("admin-%s.png" % name)), full_page=True)


def open_mailchimp_block(page):
    """The shop page shows one block at a time; its side navigation switches between them."""
    page.click(".section-navigation >> text=Mailchimp")
    page.wait_for_selector("#id_mailchimp-api_key", state="visible")


def contact_status(contact):
    return SyncState.objects.get(kind="contact", object_id=contact.pk).status


def test_admin_story_in_a_browser(browser_page, live_server, shop, admin_user, mailchimp_settings,
                                  mailchimp_account, settings):
    emulator, api_key, list_id = mailchimp_account
    page = browser_page
    base = live_server.url

    page.goto(base + reverse("shuup_admin:login"))
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    edit_url = base + reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk})
    page.goto(edit_url)
    open_mailchimp_block(page)
    page.fill("#id_mailchimp-api_key", api_key)
    page.click("button.btn-save")
    page.wait_for_selector("#mailchimp-key-hint")
    assert api_key not in page.content()
    assert MailchimpConfiguration.objects.get(shop=shop).api_key == api_key

    open_mailchimp_block(page)
    page.select_option("#id_mailchimp-audience", list_id)
    page.check("#id_mailchimp-enabled", force=True)
    shoot(page, "1-shop-edit-configured")
    # Saves every edit of the page, then asks Mailchimp what initializing will do (the drainer runs it after
    # the commit); the figures are shown before anything is created.
    page.click("#mailchimp-save-and-initialize")
    page.wait_for_load_state()
    config = MailchimpConfiguration.objects.get(shop=shop)
    assert (config.list_id, config.enabled) == (list_id, True), "no edit was lost"
    assert not config.is_initialized
    # The page comes back on the Mailchimp section (no click on its navigation).
    assert page.url.endswith("#mailchimp-section")
    page.wait_for_selector("#mailchimp-preview-table", state="visible")
    shoot(page, "2a-shop-edit-preview")
    page.click("#mailchimp-save-and-initialize")  # now "Save and initialize as shown"
    page.wait_for_load_state()
    page.wait_for_selector("#id_mailchimp-api_key", state="visible")
    page.wait_for_selector("text=Initialized on")
    shoop_initialized = MailchimpConfiguration.objects.get(shop=shop)
    assert shoop_initialized.is_active
    shoot(page, "2b-shop-edit-initialized")

    from shuup.testing.factories import create_random_contact_group

    group = create_random_contact_group(shop=shop)
    person = new_person(email="browser.person@fastmail.com")
    group.members.add(person)
    assert contact_status(person) == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    page.goto(base + reverse("shuup_admin:shoop_mailchimp.status"))
    assert page.inner_text(".counts-contact .count-synced") == "1"
    shoot(page, "3-status-synced")
    with page.expect_navigation():
        page.click("text=Configure")
    page.wait_for_selector("#id_mailchimp-api_key", state="visible")
    page.goto(base + reverse("shuup_admin:shoop_mailchimp.status"))

    page.goto(base + reverse("shuup_admin:shoop_mailchimp.log"))
    page.wait_for_selector("td >> text=Contact sent")
    shoot(page, "4-log")

    emulator.faults.fail_email(person.email)
    person.first_name = "Changed"
    person.save()
    assert contact_status(person) == SyncStatus.FAILED

    page.goto(base + reverse("shuup_admin:shoop_mailchimp.failed"))
    page.wait_for_selector("text=browser.person@fastmail.com")
    assert "looks fake or invalid" in page.inner_text("#mailchimp-failed")
    shoot(page, "5-failed")

    page.goto(base + reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk}))
    page.click(".section-navigation >> text=Mailchimp")
    page.wait_for_selector("#mailchimp-contact-section", state="visible")
    assert "looks fake or invalid" in page.inner_text("#mailchimp-contact-section")
    shoot(page, "6-contact-failed")

    emulator.faults.clear()
    page.goto(base + reverse("shuup_admin:shoop_mailchimp.failed"))
    page.click("button.mailchimp-resend")
    page.wait_for_selector("#mailchimp-no-failed")
    assert contact_status(person) == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["FNAME"] == "Changed"
    shoot(page, "7-failed-resent")

    page.goto(base + reverse("shuup_admin:shoop_mailchimp.status"))
    assert page.inner_text(".counts-contact .count-synced") == "1"
    assert page.inner_text(".counts-contact .count-failed") == "0"
    shoot(page, "8-status-repaired")

    # The open page follows what happens without being reloaded (it polls status.json).
    emulator.faults.fail_email("refused.later@fastmail.com")
    new_person(email="refused.later@fastmail.com")
    url_before = page.url
    page.wait_for_function("document.querySelector('.counts-contact .count-failed').textContent === '1'")
    page.wait_for_function("document.getElementById('mailchimp-health').dataset.key === 'failed'")
    assert page.inner_text("#mailchimp-health-headline") == "1 item failed"
    assert page.url == url_before
    shoot(page, "9-status-updated-while-open")

    # A job queued from the page (a worker runs it later): when it ends, the page shows its result by itself.
    from shoop_mailchimp.sync.jobs import run_due_jobs

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    with page.expect_navigation():
        page.click("#mailchimp-sync-existing")
    page.wait_for_selector(".mailchimp-job-open")
    assert run_due_jobs() == 1
    page.wait_for_selector(".mailchimp-job-done >> text=/done — .* queued for Mailchimp/", timeout=15000)
    assert page.query_selector(".mailchimp-job-open") is None
    assert page.url == url_before
    shoot(page, "10-status-after-a-job")


#: A common laptop screen and a phone held upright.
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_every_mailchimp_page_fits_the_screen_and_is_photographed(browser_page, live_server, shop, admin_user,
                                                                  configuration, mailchimp_account):
    """Each page at 1366×768 and at a phone's width: no sideways scrolling, no error; a screenshot of
    each for reviewers (test-artifacts/, see README)."""
    from shuup import configuration as shuup_configuration
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, _api_key, _list_id = mailchimp_account
    shuup_configuration.set(shop, "setup_wizard_complete", True)
    person = new_person(email="a.rather.long.address.for.a.narrow.screen@fastmail.com")
    emulator.faults.fail_email("refused.shopper@fastmail.com")
    refused = new_person(email="refused.shopper@fastmail.com")
    emulator.faults.fail("/ecommerce/stores/*/orders*", status=400, title="Invalid Resource", method="POST")
    product = create_product("fits", shop=shop, supplier=get_default_supplier(), default_price=3)
    create_random_order(customer=person, products=[product], shop=shop, random_products=False)
    emulator.faults.clear()
    entry = MailchimpLogEntry.objects.filter(shop=shop, kind="error").first()
    pages = [
        ("status", reverse("shuup_admin:shoop_mailchimp.status"), "#mailchimp-health", None),
        ("log", reverse("shuup_admin:shoop_mailchimp.log"), "#picotable", None),
        ("log-entry", reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": entry.pk}),
         "#mailchimp-log-extra", None),
        ("failed", reverse("shuup_admin:shoop_mailchimp.failed"), "#mailchimp-failed", None),
        ("dashboard", reverse("shuup_admin:dashboard"), "#mailchimp-dashboard-block", None),
        ("shop-settings", reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}), ".section-navigation",
         "#id_mailchimp-api_key"),
        ("contact-long-address", reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk}),
         ".section-navigation", "#mailchimp-contact-section"),
        ("contact", reverse("shuup_admin:contact.detail", kwargs={"pk": refused.pk}), ".section-navigation",
         "#mailchimp-contact-section"),
    ]
    page, base = browser_page, live_server.url
    page.goto(base + reverse("shuup_admin:login"))
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    overflowing = []
    for screen, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        for name, path, ready, section in pages:
            page.goto(base + path)
            page.wait_for_selector(ready, state="attached")  # a phone folds the blocks away
            if section and screen == "laptop":
                page.click(".section-navigation >> text=Mailchimp")
                page.wait_for_selector(section, state="visible")
            elif section:  # a phone has no side navigation: every section is a block of the page
                page.wait_for_selector(section, state="attached")
            page.wait_for_load_state("networkidle")
            # A phone shows each block folded; what matters is the width of what it holds, so all open.
            page.evaluate("document.querySelectorAll('.content-wrap.collapse').forEach("
                          "function (block) { block.classList.add('show'); })")
            # Our own pages as a whole; on Shuup's pages our section (Shuup's own tables overflow a phone).
            overflow = page.evaluate(OVERFLOW) if not section else page.eval_on_selector(
                section, "node => Math.max(node.getBoundingClientRect().right - window.innerWidth,"
                         " node.scrollWidth - node.clientWidth)")
            if overflow > 0:
                wide = page.evaluate("Array.from(document.querySelectorAll('body *')).filter(function (node) {"
                                     " return node.getBoundingClientRect().right > window.innerWidth + 1; })"
                                     ".slice(-3).map(function (node) { return node.tagName + '#' + node.id + '.' +"
                                     " node.className; })")
                overflowing.append("%s %s: %d px (%s)" % (screen, name, overflow, wide))
            page.screenshot(path=str(ARTIFACTS / ("%s-%s.png" % (screen, name))), full_page=True)
    assert overflowing == [], "pages wider than the screen"
    assert "It is not tried again by itself" in page.inner_text("#mailchimp-contact-section")

    # A refused key: the error is shown under the field, which keeps its width.
    page.set_viewport_size(VIEWPORTS["laptop"])
    page.goto(base + reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}))
    page.click(".section-navigation >> text=Mailchimp")
    page.fill("#id_mailchimp-api_key", "not a key")
    page.click("button.btn-save")
    page.click(".section-navigation >> text=Mailchimp")
    page.wait_for_selector("#id_mailchimp-api_key", state="visible")
    assert "This is not a Mailchimp API key" in page.inner_text("#mailchimp-section")
    key_width = page.eval_on_selector("#id_mailchimp-api_key", "node => node.offsetWidth")
    store_width = page.eval_on_selector("#id_mailchimp-store_id", "node => node.offsetWidth")
    assert key_width >= store_width * 0.95, (key_width, store_width)
    page.screenshot(path=str(ARTIFACTS / "laptop-shop-settings-refused-key.png"), full_page=True)
