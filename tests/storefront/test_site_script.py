"""The connected site: initialization links the store's connected site in Mailchimp, and the storefront's pages
include its script where the shop switched it on, and, with the shop's cookie consent on, only for visitors who
accepted Mailchimp's cookie."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from shuup.gdpr.models import GDPRSettings
from shuup.xtheme import set_current_theme

from shoop_mailchimp.disconnection import stop_sending
from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry

pytestmark = pytest.mark.django_db

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def linked(shop, fresh_configuration, mailchimp_account):
    """An initialized shop whose domain is known, with the script switched on; the front page themed."""
    set_current_theme("shuup.themes.classic_gray", shop)
    shop.domain = "shop.example.com"
    shop.save()
    initialize(fresh_configuration)
    MailchimpConfiguration.objects.filter(pk=fresh_configuration.pk).update(site_script_enabled=True)
    fresh_configuration.refresh_from_db()
    return fresh_configuration


def front_page(cookies=None):
    browser = Client()
    for name, value in (cookies or {}).items():
        browser.cookies[name] = value
    return browser.get("/").content.decode()


def test_initialize_creates_the_connected_site_and_keeps_its_script(linked, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    [site] = emulator.connected_sites(api_key)
    assert (site["foreign_id"], site["domain"], site["store_id"]) == (linked.store_id, "shop.example.com",
                                                                      linked.store_id)
    assert linked.site_script_url == site["site_script"]["url"]

    initialize(linked)  # again: the site is found, not created twice
    assert len(emulator.connected_sites(api_key)) == 1


def test_the_storefront_includes_the_script_only_when_switched_on(linked):
    assert '<script src="%s"></script>' % linked.site_script_url in front_page()
    MailchimpConfiguration.objects.filter(pk=linked.pk).update(site_script_enabled=False)
    assert linked.site_script_url not in front_page()


def test_a_shop_that_does_not_send_to_mailchimp_includes_no_script(linked):
    """Found by review: after Disconnect the visitors' browsers went on loading Mailchimp's tracking. Nor while
    sending is paused by an account error, nor in a copy of the database on another site (staging)."""
    assert linked.site_script_url in front_page()
    for stopped in ({"paused_reason": "The API key was revoked."}, {"site": "production.example.com"},
                    {"disconnected_on": timezone.now()}):
        MailchimpConfiguration.objects.filter(pk=linked.pk).update(**stopped)
        assert linked.site_script_url not in front_page(), stopped
        MailchimpConfiguration.objects.filter(pk=linked.pk).update(paused_reason="", site=linked.site,
                                                                   disconnected_on=None)
    assert linked.site_script_url in front_page()
    stop_sending(linked, Journal(linked.shop_id), delete_store=False)  # what the admin's Disconnect does first
    assert linked.site_script_url not in front_page()


def test_with_cookie_consent_on_only_visitors_who_accepted_mailchimps_cookie_get_it(shop, linked):
    gdpr = GDPRSettings.get_for_shop(shop)
    gdpr.enabled = True
    gdpr.save()
    consent = settings.SHUUP_GDPR_CONSENT_COOKIE_NAME
    assert linked.site_script_url not in front_page()
    assert linked.site_script_url not in front_page({consent: json.dumps({"cookies": ["sessionid"]})})
    assert linked.site_script_url in front_page({consent: json.dumps({"cookies": ["sessionid", "_mcid"]})})


def test_without_a_domain_initialization_goes_on_without_a_site(shop, fresh_configuration, mailchimp_account,
                                                                 settings):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL=None, WEBHOOK_BASE_URL=None)
    shop.domain = None
    shop.save()
    initialize(fresh_configuration)
    assert fresh_configuration.initialized_on and fresh_configuration.site_script_url == ""
    assert emulator.connected_sites(api_key) == []
    assert MailchimpLogEntry.objects.filter(action="site.link", kind="warning").exists()


@pytest.mark.parametrize("value", ["[]", "null", '"x"', '{"cookies": "xx_mcidxx"}', "{bad"])
def test_a_malformed_consent_cookie_is_no_consent_and_no_error(shop, linked, value):
    """Found by review: a consent cookie that was JSON but not an object made every storefront page a 500."""
    gdpr = GDPRSettings.get_for_shop(shop)
    gdpr.enabled = True
    gdpr.save()
    browser = Client()
    browser.cookies[settings.SHUUP_GDPR_CONSENT_COOKIE_NAME] = value
    page = browser.get("/")
    assert page.status_code == 200
    assert linked.site_script_url not in page.content.decode()


def test_the_connected_site_is_the_shops_own_host_even_with_a_scheme(shop, fresh_configuration, mailchimp_account,
                                                                      settings):
    """Found by review: the connected site and the restore links disagreed on the storefront; a domain typed
    with its scheme went to Mailchimp as it was."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL="https://elsewhere.example.com")
    shop.domain = "https://Shop.example.com/"
    shop.save()
    initialize(fresh_configuration)
    [site] = emulator.connected_sites(api_key)
    assert site["domain"] == "shop.example.com"


SETTINGS_WITHOUT_GDPR = textwrap.dedent("""
    from tests.settings import *  # noqa
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "shuup.gdpr"]
    MIDDLEWARE = [name for name in MIDDLEWARE if "gdpr" not in name]
""")

#: What Shuup loads of the addon: xtheme's engine loads every ``xtheme_resource_injection`` provide for each page.
LOAD_PROVIDES = textwrap.dedent("""
    import django
    django.setup()
    from django.apps import apps
    from shuup.apps.provides import get_provide_objects
    for category in apps.get_app_config("shoop_mailchimp").provides:
        for provided in get_provide_objects(category):
            assert provided is not None, category
    from shoop_mailchimp.storefront.site_script import mailchimp_cookies_allowed
    print("ok")
""")


@pytest.mark.timeout(300)
def test_a_project_without_shuup_gdpr_loads_the_addon(tmp_path):
    """Found by review: the script's injection imported ``shuup.gdpr.models`` at module level; Shuup's GDPR app is
    optional, and without it every storefront page failed."""
    (tmp_path / "settings_without_gdpr.py").write_text(SETTINGS_WITHOUT_GDPR)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings_without_gdpr",
               PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", LOAD_PROVIDES], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-1500:]


@pytest.mark.parametrize("site_named_by", ["shop domain", "WEBHOOK_BASE_URL"])
def test_the_store_and_its_connected_site_follow_the_shops_new_domain(shop, fresh_configuration, mailchimp_account,
                                                                      settings, admin_client, site_named_by):
    """Mailchimp cannot change a connected site's domain: the site of the old one is deleted and created again for
    the new one (a new script, which the storefront then includes); the store's domain is updated. The admin's save
    only queues a job; where the shop's domain names the site it was connected on, the staging guard holds the shop
    until the admin confirms the new address, and the confirmation queues it."""
    from django.urls import reverse

    from shoop_mailchimp.models import JobKind, MailchimpJob
    from shoop_mailchimp.sync.jobs import run_due_jobs

    if site_named_by == "WEBHOOK_BASE_URL":
        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.com")
    set_current_theme("shuup.themes.classic_gray", shop)
    shop.domain = "shop.example.com"
    shop.save()
    initialize(fresh_configuration)
    MailchimpConfiguration.objects.filter(pk=fresh_configuration.pk).update(site_script_enabled=True)
    linked = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    emulator, api_key, list_id = mailchimp_account
    [old_site] = emulator.connected_sites(api_key)
    emulator.clear_requests()
    shop.domain = "new.example.com"
    shop.save()
    assert emulator.requests == [], "the save calls no Mailchimp"
    if site_named_by == "shop domain":
        assert not MailchimpJob.objects.filter(kind=JobKind.FOLLOW_DOMAIN).exists(), "held by the staging guard"
        assert admin_client.post(reverse("shuup_admin:shoop_mailchimp.confirm_site")).status_code == 302
    assert MailchimpJob.objects.filter(shop=shop, kind=JobKind.FOLLOW_DOMAIN).count() == 1
    run_due_jobs()
    [site] = emulator.connected_sites(api_key)
    assert (site["foreign_id"], site["domain"]) == (linked.store_id, "new.example.com")
    assert emulator.get_store(api_key, linked.store_id)["domain"] == "new.example.com"
    linked.refresh_from_db()
    assert linked.site_script_url == site["site_script"]["url"] != old_site["site_script"]["url"]
    page = Client(HTTP_HOST="new.example.com").get("/").content.decode()
    assert linked.site_script_url in page and old_site["site_script"]["url"] not in page

    shop.save()  # the domain unchanged: nothing to do
    assert MailchimpJob.objects.filter(shop=shop, kind=JobKind.FOLLOW_DOMAIN).count() == 1


def test_a_shop_gaining_a_domain_gets_its_connected_site(shop, fresh_configuration, mailchimp_account, settings):
    from shoop_mailchimp.sync.jobs import run_due_jobs

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL=None, WEBHOOK_BASE_URL=None)
    shop.domain = None
    shop.save()
    initialize(fresh_configuration)
    assert emulator.connected_sites(api_key) == []
    shop.domain = "found.example.com"
    shop.save()
    run_due_jobs()
    [site] = emulator.connected_sites(api_key)
    assert site["domain"] == "found.example.com"
    fresh_configuration.refresh_from_db()
    assert fresh_configuration.site_script_url == site["site_script"]["url"]


def test_a_shop_save_reads_the_stored_shop_once(shop, fresh_configuration, mailchimp_account):
    """The domain (connected site) and the currency and taxness (product prices) are compared with one read of the
    stored shop, not one per receiver (Shuup's own reads load the whole row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    initialize(fresh_configuration)
    shop.domain = "another.example.com"
    with CaptureQueriesContext(connection) as queries:
        shop.save()
    shop_reads = [query["sql"] for query in queries.captured_queries
                  if query["sql"].startswith("SELECT") and 'FROM "shuup_shop"' in query["sql"]
                  and '"shuup_shop"."created_on"' not in query["sql"]]
    assert len(shop_reads) == 1, "\n".join(s[:200] for s in shop_reads)


def test_initialize_remakes_a_connected_site_of_another_domain(shop, fresh_configuration, mailchimp_account):
    """A domain changed where no signal saw it (a queryset update, a restored dump): Initialize, the admin's repair,
    makes the site for the storefront's domain as the domain job would, instead of keeping a script that tracks
    another host."""
    from shuup.core.models import Shop

    emulator, api_key, list_id = mailchimp_account
    shop.domain = "old.example.com"
    shop.save()
    initialize(fresh_configuration)
    [old_site] = emulator.connected_sites(api_key)
    Shop.objects.filter(pk=shop.pk).update(domain="moved.example.com")
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    initialize(configuration)
    [site] = emulator.connected_sites(api_key)
    assert (old_site["domain"], site["domain"]) == ("old.example.com", "moved.example.com")
    configuration.refresh_from_db()
    assert configuration.site_script_url == site["site_script"]["url"] != old_site["site_script"]["url"]


def test_reconnecting_after_a_domain_change_while_disconnected_moves_the_store_and_its_site(
        shop, fresh_configuration, mailchimp_account):
    """A shop disconnected (store kept), its domain changed meanwhile (no FOLLOW_DOMAIN job: the receiver skips
    disconnected shops), then reconnected with Initialize: the connected site and the store's ``domain`` are the
    new domain's (review of issue 18: the store kept the old one)."""
    from shoop_mailchimp import disconnection

    emulator, api_key, list_id = mailchimp_account
    set_current_theme("shuup.themes.classic_gray", shop)
    shop.domain = "shop.example.com"
    shop.save()
    initialize(fresh_configuration)
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    stop_sending(configuration, Journal(shop.pk), delete_store=False)
    disconnection.run(configuration, delete_store=False)

    shop.domain = "new.example.com"
    shop.save()
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    initialize(configuration)
    configuration.refresh_from_db()
    assert configuration.disconnected_on is None, "reconnected"
    [site] = emulator.connected_sites(api_key)
    assert site["domain"] == "new.example.com"
    assert emulator.get_store(api_key, configuration.store_id)["domain"] == "new.example.com"
    assert MailchimpLogEntry.objects.filter(action="store.update", message__contains="new.example.com").exists()


def test_the_stores_domain_is_the_storefronts_host_as_the_sites(shop, fresh_configuration, mailchimp_account,
                                                                settings):
    """The shop's domain typed with its scheme and a slash: the store is created with the host, as the connected
    site is (review of issue 18: the store's ``domain`` was the text as typed), and the domain job sends the host."""
    from shoop_mailchimp.sync.jobs import run_due_jobs

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.com")
    shop.domain = "https://Shop.example.com/"
    shop.save()
    initialize(fresh_configuration)
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    [site] = emulator.connected_sites(api_key)
    assert emulator.get_store(api_key, configuration.store_id)["domain"] == site["domain"] == "shop.example.com"

    shop.domain = "http://New.example.com:8000/"
    shop.save()
    run_due_jobs()
    [site] = emulator.connected_sites(api_key)
    assert emulator.get_store(api_key, configuration.store_id)["domain"] == site["domain"] == "new.example.com"


def test_a_failed_domain_move_leaves_no_dead_script_and_is_tried_again(shop, fresh_configuration, mailchimp_account,
                                                                       settings):
    """FOLLOW_DOMAIN deletes the connected site of the old domain, then creates the new one. When the create is
    refused (Mailchimp down), the storefront includes no script rather than the deleted site's (review of issue
    18), and the job is queued again after a backoff until it goes."""
    from datetime import timedelta

    from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob
    from shoop_mailchimp.sync.jobs import run_due_jobs, schedule_domain_retries

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.com",
                                    RETRY_BASE_DELAY=60)
    set_current_theme("shuup.themes.classic_gray", shop)
    shop.domain = "shop.example.com"
    shop.save()
    initialize(fresh_configuration)
    MailchimpConfiguration.objects.filter(pk=fresh_configuration.pk).update(site_script_enabled=True)
    [old_site] = emulator.connected_sites(api_key)
    emulator.faults.fail("/connected-sites", status=503, method="POST")
    shop.domain = "new.example.com"
    shop.save()
    run_due_jobs()
    assert MailchimpJob.objects.get(kind=JobKind.FOLLOW_DOMAIN).status == JobStatus.FAILED
    assert emulator.connected_sites(api_key) == []
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    assert configuration.site_script_url == ""
    page = Client(HTTP_HOST="new.example.com").get("/").content.decode()
    assert old_site["site_script"]["url"] not in page, "the storefront includes a deleted site's script"

    schedule_domain_retries()
    assert MailchimpJob.objects.filter(kind=JobKind.FOLLOW_DOMAIN).count() == 1, "not before its backoff"
    emulator.faults.clear()
    schedule_domain_retries(now=timezone.now() + timedelta(hours=1))
    run_due_jobs()
    assert MailchimpJob.objects.filter(kind=JobKind.FOLLOW_DOMAIN).latest("created_on").status == JobStatus.DONE
    [site] = emulator.connected_sites(api_key)
    configuration.refresh_from_db()
    assert site["domain"] == "new.example.com" and configuration.site_script_url == site["site_script"]["url"]
    page = Client(HTTP_HOST="new.example.com").get("/").content.decode()
    assert configuration.site_script_url in page
    schedule_domain_retries(now=timezone.now() + timedelta(days=1))
    assert not MailchimpJob.objects.filter(kind=JobKind.FOLLOW_DOMAIN, status=JobStatus.QUEUED).exists()


def test_a_domain_move_failing_again_and_again_is_left_to_the_admin(shop, fresh_configuration, mailchimp_account,
                                                                     settings):
    from datetime import timedelta

    from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob
    from shoop_mailchimp.sync.jobs import run_due_jobs, schedule_domain_retries

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.com",
                                    MAX_ATTEMPTS=3)
    shop.domain = "shop.example.com"
    shop.save()
    initialize(fresh_configuration)
    emulator.faults.fail("/connected-sites", status=503, method="POST")
    shop.domain = "new.example.com"
    shop.save()
    later = timezone.now()
    for _ in range(5):
        run_due_jobs()
        later += timedelta(minutes=10)  # past each backoff (RETRY_BASE_DELAY is 1 s in the tests)
        schedule_domain_retries(now=later)
    assert list(MailchimpJob.objects.filter(kind=JobKind.FOLLOW_DOMAIN).values_list("status", flat=True)) == [
        JobStatus.FAILED] * 3


def test_initialize_finds_the_site_mailchimp_made_with_the_store(shop, fresh_configuration, mailchimp_account):
    """Mailchimp makes a store's own connected site when the store is created with a domain: Initialize links that
    one, also when its look-up missed it and the create is refused as "already exists" (review of issue 18)."""
    emulator, api_key, list_id = mailchimp_account
    shop.domain = "shop.example.com"
    shop.save()
    emulator.faults.fail("/connected-sites/*", status=404, method="GET", times=1)  # the look-up misses it
    initialize(fresh_configuration)
    [site] = emulator.connected_sites(api_key)
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    assert site["foreign_id"] == configuration.store_id
    assert configuration.site_script_url == site["site_script"]["url"]
    assert emulator.get_store(api_key, configuration.store_id)["domain"] == site["domain"] == "shop.example.com"
