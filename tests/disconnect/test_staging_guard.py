"""The staging guard: a copy of the database running on another site sends nothing until an admin resolves it."""
import pytest

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpConfiguration, MailchimpJob, MailchimpLogEntry
from shoop_mailchimp.sites import SiteMismatch
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import messages_of, post_shop_form, shop_edit_url, url
from tests.disconnect.conftest import PRODUCTION, STAGING, initialized_on_domain, run_on
from tests.helpers import new_person, registered_webhooks, row_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_copy_on_another_site_sends_nothing_and_says_why(settings, admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    run_on(settings, STAGING)
    emulator.clear_requests()
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert not configuration.is_active and not MailchimpConfiguration.objects.active().exists()
    assert MailchimpConfiguration.objects.recording().exists(), "changes are still recorded"
    person = new_person()
    request_job(connected.shop_id, JobKind.CHECK_ACCOUNT)
    request_job(connected.shop_id, JobKind.RECONCILE, full=True)
    run_due_work()
    assert emulator.requests == [], "no Mailchimp request from the copy"
    assert row_of(person).status == "pending"
    assert all(job.status == JobStatus.FAILED and "staging.example.com" in job.message
               for job in MailchimpJob.objects.all())
    with pytest.raises(SiteMismatch):
        open_session(configuration)

    for page in (admin_client.get(url("status")), admin_client.get(shop_edit_url(connected.shop))):
        html = page.content.decode()
        assert 'id="mailchimp-site-mismatch"' in html and 'id="mailchimp-confirm-site"' in html
        assert "connected to Mailchimp on shop.example.com" in html and "runs on staging.example.com" in html
        assert api_key not in html

    # Back on the real site, nothing was needed: the copy's settings were the only difference.
    run_on(settings, PRODUCTION)
    assert MailchimpConfiguration.objects.active().exists()


def test_confirming_the_new_address_resumes_sending(settings, admin_client, admin_user, connected,
                                                    mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    run_on(settings, STAGING)
    person = new_person()
    assert row_of(person).status == "pending"
    assert admin_client.get(url("confirm_site")).status_code == 405
    response = admin_client.post(url("confirm_site"))
    assert response.status_code == 302
    assert MailchimpConfiguration.objects.get(pk=connected.pk).site == "staging.example.com"
    assert MailchimpLogEntry.objects.get(action="site.confirm").user == admin_user
    assert row_of(person).status == "synced"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    # Mailchimp now calls the new address, and no longer the old one, for unsubscribes made there.
    assert [hook["url"].split("/")[2] for hook in registered_webhooks(emulator, api_key, list_id)] == [
        "staging.example.com"]
    assert MailchimpJob.objects.get(kind=JobKind.MOVE_WEBHOOK).status == JobStatus.DONE


def test_initializing_on_the_copy_makes_it_the_configurations_site(settings, admin_client, connected,
                                                                   mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    # Queued on production just before the copy was made: it does not run on the copy.
    request_job(connected.shop_id, JobKind.INITIALIZE, site="shop.example.com")
    run_on(settings, STAGING)
    run_due_jobs(connected.shop_id)
    assert MailchimpJob.objects.get().status == JobStatus.FAILED
    assert MailchimpConfiguration.objects.get(pk=connected.pk).site == "shop.example.com"

    assert post_shop_form(admin_client, connected.shop, initialize="1").status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.site == "staging.example.com" and configuration.is_active
    assert {hook["url"].split("/")[2] for hook in registered_webhooks(emulator, api_key, list_id)} == {
        "shop.example.com", "staging.example.com"}


def test_a_disconnect_on_the_copy_deletes_nothing_in_mailchimp(settings, admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    run_on(settings, STAGING)
    emulator.clear_requests()
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    assert emulator.requests == []
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is not None
    job = MailchimpJob.objects.get(kind=JobKind.DISCONNECT)
    assert job.status == JobStatus.FAILED and "nothing was deleted in Mailchimp" in job.message
    assert emulator.get_store(api_key, connected.store_id) is not None
    assert len(registered_webhooks(emulator, api_key, list_id)) == 1


def test_a_copy_that_cannot_tell_its_site_sends_nothing(settings, connected, mailchimp_account):
    """Production remembers its site; the copy has neither WEBHOOK_BASE_URL nor a shop domain (nobody
    configured the staging copy): held, and the banner says why (found by review: it sent)."""
    emulator, api_key, list_id = mailchimp_account
    run_on(settings, "")
    connected.shop.domain = None
    connected.shop.save()
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert "unknown site" in str(configuration.site_mismatch)
    assert not configuration.is_active and not MailchimpConfiguration.objects.active().exists()
    person = new_person()
    run_due_work()
    assert emulator.get_member(api_key, list_id, person.email) is None
    assert row_of(person).status == "pending"



def test_a_copy_that_cannot_tell_its_site_offers_no_confirm_and_says_what_to_set(settings, admin_client, connected,
                                                                                 mailchimp_account):
    """No WEBHOOK_BASE_URL, no shop domain: confirming would remember no site and nothing would resume. The banner
    says what to set and offers no Confirm; a Confirm posted all the same is refused and changes nothing."""
    run_on(settings, "")
    connected.shop.domain = None
    connected.shop.save()
    for page in (admin_client.get(url("status")), admin_client.get(shop_edit_url(connected.shop))):
        html = page.content.decode()
        assert 'id="mailchimp-site-mismatch"' in html
        assert 'id="mailchimp-confirm-site"' not in html
        assert "cannot tell which site it runs on" in html and "WEBHOOK_BASE_URL" in html
    response = admin_client.post(url("confirm_site"))
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.site == "shop.example.com", "the banner's sentence became the remembered site: %r" % (
        configuration.site)
    assert configuration.site_from_setting is True
    assert not any("resumes" in message for message in messages_of(response)), messages_of(response)
    assert any("Nothing was confirmed" in message for message in messages_of(response)), messages_of(response)
    assert not MailchimpLogEntry.objects.filter(action="site.confirm").exists()
    assert not MailchimpJob.objects.filter(kind__in=[JobKind.FOLLOW_DOMAIN, JobKind.MOVE_WEBHOOK]).exists()
    assert "WEBHOOK_BASE_URL\"] in this deployment's settings, or the shop's domain, first" in str(
        configuration.site_mismatch)

    # The shop's domain set on the copy: now it can be confirmed.
    connected.shop.domain = "staging.example.com"
    connected.shop.save()
    assert 'id="mailchimp-confirm-site"' in admin_client.get(url("status")).content.decode()
    admin_client.post(url("confirm_site"))
    assert MailchimpConfiguration.objects.get(pk=connected.pk).site == "staging.example.com"

def test_without_a_remembered_site_nothing_is_held(settings, configuration):
    """Initialized before sites were remembered, or with neither WEBHOOK_BASE_URL nor a shop domain: nothing to
    compare, nothing held."""
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(site="")
    configuration.shop.domain = "elsewhere.example.com"
    configuration.shop.save()
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).is_active
    assert MailchimpConfiguration.objects.active().exists()
    configuration.shop.domain = None
    configuration.shop.save()
    initialize(configuration)
    configuration = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert configuration.site == "" and configuration.is_active


def test_the_shop_domain_is_the_site_where_no_webhook_base_url_is_set(settings, configuration):
    shop = configuration.shop
    shop.domain = "Shop.Example.com"
    shop.save()
    initialize(configuration)
    assert configuration.site == "shop.example.com" and MailchimpConfiguration.objects.active().exists()
    shop.domain = "staging.example.com"
    shop.save()
    configuration = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert configuration.site_mismatch.here == "staging.example.com"
    assert not MailchimpConfiguration.objects.active().exists()


def test_a_copy_without_the_webhook_base_url_setting_but_with_the_copied_shop_domain_sends_nothing(
        settings, admin_client, connected, mailchimp_account):
    """Production sets WEBHOOK_BASE_URL and its shop's domain is shop.example.com. A copy of its database whose
    settings do not set WEBHOOK_BASE_URL still names the shop's domain shop.example.com: the configuration
    remembers that its site was named by the setting, so the copy is held and says why (review aud)."""
    emulator, api_key, list_id = mailchimp_account
    assert connected.site_from_setting is True
    connected.shop.domain = "shop.example.com"
    connected.shop.save()
    # Queued on production just before the copy was made: it does not run on the copy either.
    request_job(connected.shop_id, JobKind.INITIALIZE, **MailchimpConfiguration.objects.get(
        pk=connected.pk).site_params)
    run_on(settings, "")  # the copy's own settings: nobody configured it
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert "WEBHOOK_BASE_URL, which named the site where it was connected, is not set here" in str(
        configuration.site_mismatch)
    assert not configuration.is_active and not MailchimpConfiguration.objects.active().exists()
    person = new_person(email="test.user.on.staging@fastmail.com")
    run_due_work()
    assert emulator.get_member(api_key, list_id, person.email) is None
    assert MailchimpJob.objects.get(kind=JobKind.INITIALIZE).status == JobStatus.FAILED
    html = admin_client.get(url("status")).content.decode()
    assert 'id="mailchimp-site-mismatch"' in html

    # An admin confirms that the copy is the same shop: it is now named by the shop's domain, and sends.
    assert admin_client.post(url("confirm_site")).status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.site == "shop.example.com" and configuration.site_from_setting is False
    assert configuration.site_mismatch is None and configuration.is_active


def test_initializing_where_the_shop_domain_names_the_site_connects_a_copy_without_the_setting(
        settings, admin_client, connected, mailchimp_account):
    run_on(settings, "")
    connected.shop.domain = "shop.example.com"
    connected.shop.save()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).site_mismatch is not None
    assert post_shop_form(admin_client, connected.shop, initialize="1").status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.site_from_setting is False and configuration.is_active
    # The real site, whose settings name it, is not held by a site that was named by the shop's domain.
    run_on(settings, PRODUCTION)
    assert MailchimpConfiguration.objects.get(pk=connected.pk).site_mismatch is None


@pytest.mark.parametrize("domain", ["Kauppa-Ä.example", "  shop.example.com  "])
def test_a_shop_the_admin_sees_sending_is_sent_whatever_its_domain_is_written_with(shop, mailchimp_settings,
                                                                                   mailchimp_account, domain):
    """No WEBHOOK_BASE_URL: the shop's domain names the site. A domain with a non-ASCII capital (an IDN typed as
    "Kauppa-Ä.example") or surrounding blanks (set through the API or a shell) is the site the configuration
    remembers: the drainer's filter (``active()``) takes the admin pages' decision, and the shop's changes reach
    Mailchimp (SQL's LOWER folds ASCII only: the shop was held without a banner)."""
    emulator, api_key, list_id = mailchimp_account
    configuration = initialized_on_domain(shop, mailchimp_account, domain)
    assert configuration.site_mismatch is None and configuration.is_active
    assert MailchimpConfiguration.objects.active().filter(pk=configuration.pk).exists(), (
        "active() disagrees with is_active: %r vs %r" % (configuration.site, domain))
    person = new_person()
    run_due_work()
    assert row_of(person).status == "synced"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"


def test_a_domain_changed_back_resumes_sending_with_what_was_recorded(shop, mailchimp_settings, mailchimp_account):
    """The shop's domain changed (held: another site) and back, written in other capitals: what was recorded while
    held is sent."""
    emulator, api_key, list_id = mailchimp_account
    initialized_on_domain(shop, mailchimp_account, "shop.example.com")
    shop.domain = "staging.example.com"
    shop.save()
    person = new_person()
    run_due_work()
    assert emulator.get_member(api_key, list_id, person.email) is None
    shop.domain = "Shop.Example.com"
    shop.save()
    run_due_work()
    assert row_of(person).status == "synced"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"


def test_the_banner_shows_a_shop_domain_holding_markup_as_text(admin_client, shop, mailchimp_settings,
                                                               mailchimp_account):
    """The red banner (status page and shop page) shows the copy's shop domain as text, not markup."""
    emulator, api_key, list_id = mailchimp_account
    initialized_on_domain(shop, mailchimp_account, "shop.example.com")
    shop.domain = '"><img src=x onerror=alert(1)>'
    shop.save()
    for page in (admin_client.get(url("status")), admin_client.get(shop_edit_url(shop))):
        html = page.content.decode()
        assert 'id="mailchimp-site-mismatch"' in html
        assert "<img src=x onerror=alert(1)>" not in html


@pytest.mark.parametrize("before, after", [("https://shop.example.com/", "shop.example.com"),
                                           ("shop.example.com", "https://shop.example.com"),
                                           ("shop.example.com", "Shop.Example.com.:443"),
                                           ("Kauppa-Ä.example", "xn--kauppa--cxa.example")])
def test_writing_the_same_shop_domain_another_way_does_not_pause_sending(shop, mailchimp_settings, mailchimp_account,
                                                                        before, after):
    """No WEBHOOK_BASE_URL: the shop's domain names the site. The same host written another way (with or without
    the scheme Shuup lets an admin type, a port, capitals, a trailing dot, an IDN or its punycode) is the same
    site, as the connected site's domain reads it: sending goes on, no banner."""
    emulator, api_key, list_id = mailchimp_account
    configuration = initialized_on_domain(shop, mailchimp_account, before)
    shop.domain = after
    shop.save()
    configuration = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert configuration.site_mismatch is None, str(configuration.site_mismatch)
    assert MailchimpConfiguration.objects.active().filter(pk=configuration.pk).exists()


def test_a_site_remembered_as_the_domain_was_written_is_the_same_site(configuration):
    """A site remembered before sites were written one way (the shop's domain with its scheme and slash, lower-cased
    only) is the host it names: the shop is not held."""
    configuration.shop.domain = "shop.example.com"
    configuration.shop.save()
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(site="https://shop.example.com/",
                                                                      site_from_setting=False)
    configuration = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert configuration.site_mismatch is None and configuration.is_active
    assert MailchimpConfiguration.objects.active().filter(pk=configuration.pk).exists()


def test_a_site_learnt_after_initialize_arms_the_staging_guard(settings, fresh_configuration, mailchimp_account):
    """Shuup's default shop has no domain, and WEBHOOK_BASE_URL is optional (the quickstart sets neither).
    Initialized so, the configuration remembers site "". Production later gets its domain (shop.example.com) and
    sends for months. A staging copy of that database whose shop domain is changed to staging.example.com (what
    docs/disconnect.rst tells operators to do) still sends its test edits into the live audience: the guard never
    learns the site it runs on once one is known, so it is disarmed for ever without any banner saying so
    (sites.mismatch returns None for site == "")."""
    shop = fresh_configuration.shop
    shop.domain = None
    shop.save()
    initialize(fresh_configuration)
    configuration = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    assert configuration.site == ""
    # Production: the domain is set, and the shop keeps sending.
    shop.domain = "shop.example.com"
    shop.save()
    new_person()
    drain()
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).site == "shop.example.com"
    assert MailchimpLogEntry.objects.filter(action="site.learnt", message__contains="shop.example.com").exists()
    # The staging copy of that database, with its domain changed as the docs ask.
    shop.domain = "staging.example.com"
    shop.save()
    configuration = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert configuration.site_mismatch is not None, "a staging copy of this shop sends into the live audience"
    assert not MailchimpConfiguration.objects.active().exists()
