"""The storefront story in a real Chromium: the shop owner places the newsletter block on the front page with
xtheme's editor, a shopper subscribes with it (pending under double opt-in), confirms from Mailchimp's e-mail
(the emulator's subscribe webhook), and the member is subscribed in Mailchimp with the names typed in the block
and the language of the page."""
import pytest

from shoop_mailchimp.mailchimp import members
from shoop_mailchimp.storefront import views
from tests.admin.test_browser import ARTIFACTS, chromium_page
from tests.helpers import row_of
from tests.storefront.helpers import place_newsletter_block_with_editor
from tests.webhooks.helpers import configure_with_live_webhook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shopper_page():
    with chromium_page(1366, 900) as page:
        problems = []
        page.on("pageerror", lambda error: problems.append("page error: %s" % error))
        page.on("response", lambda response: problems.append("%s %s" % (response.status, response.url))
                if response.status >= 400 else None)
        yield page, problems


def test_a_shopper_subscribes_with_the_block_and_confirms(shopper_page, live_server, shop, settings, admin_client,
                                                          mailchimp_settings, mailchimp_account):
    from shuup.core.models import PersonContact

    emulator, api_key, list_id = mailchimp_account
    configuration = configure_with_live_webhook(settings, live_server, shop, mailchimp_account, double_opt_in=True)
    place_newsletter_block_with_editor(admin_client, shop, title="Chimp news", ask_name=True)
    page, problems = shopper_page
    email = "browser.reader@fastmail.com"

    page.goto(live_server.url + "/")
    page.wait_for_selector(".shoop-mailchimp-newsletter >> text=Chimp news")
    page.fill("#newsletter-email", email)
    page.fill("#newsletter-first_name", "Grace")
    page.fill("#newsletter-last_name", "Hopper")
    with page.expect_navigation():
        page.click(".shoop-mailchimp-newsletter-submit")
    page.wait_for_selector(".alert-success")
    assert " ".join(page.inner_text(".alert-success").split()).endswith(str(views.CHECK_YOUR_INBOX))
    page.screenshot(path=str(ARTIFACTS / "storefront-newsletter-check-your-inbox.png"), full_page=True)
    assert api_key not in page.content()

    person = PersonContact.objects.get(email=email)
    assert person.marketing_permission is True
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == members.PENDING
    assert [c["email_address"] for c in emulator.confirmations(api_key)] == [email]

    # The shopper clicks the link in Mailchimp's confirmation e-mail: Mailchimp calls the shop's webhook.
    member, deliveries = emulator.fire_event(api_key, list_id, "subscribe", email)
    assert [status for _, status in deliveries] == [200]

    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == members.SUBSCRIBED
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Grace", "Hopper")
    assert member["language"] == "en"  # the language of the page the shopper signed up on
    assert row_of(person, configuration.shop_id).member_status == members.SUBSCRIBED
    assert problems == [], "the pages loaded without errors"
