"""Review 18: the attribution cookie ``mc_attribution`` (Mailchimp's per-recipient id ``mc_eid`` and the landing
page, kept 30 days) is a marketing cookie. In a shop whose cookie consent is on (Shuup's GDPR settings) it is
set for every visitor arriving from a campaign link, before and without any consent: the site script follows
the consent, the attribution cookie does not."""
import json

import pytest
from django.conf import settings
from django.test import Client
from shuup.gdpr.models import GDPRSettings
from shuup.xtheme import set_current_theme

from shoop_mailchimp.storefront import attribution

pytestmark = pytest.mark.django_db

CAMPAIGN = "1a2b3c4d5e"
RECIPIENT = "0f9e8d7c6b"


def test_no_attribution_cookie_without_cookie_consent_in_a_shop_that_asks_for_it(shop):
    set_current_theme("shuup.themes.classic_gray", shop)
    gdpr = GDPRSettings.get_for_shop(shop)
    gdpr.enabled = True
    gdpr.save()

    browser = Client()
    response = browser.get("/", {"mc_cid": CAMPAIGN, "mc_eid": RECIPIENT})
    assert attribution.COOKIE_NAME not in response.cookies, \
        "a 30-day tracking cookie with the recipient's Mailchimp id, set before the visitor consented to any cookie"

    # A visitor who accepted only the required cookies (sessionid, csrftoken...) gets none either.
    required_only = Client()
    required_only.cookies[settings.SHUUP_GDPR_CONSENT_COOKIE_NAME] = json.dumps(
        {"groups": [], "cookies": ["sessionid", "csrftoken", "shuup_gdpr_consent", "rvp"]})
    response = required_only.get("/", {"mc_cid": CAMPAIGN, "mc_eid": RECIPIENT})
    assert attribution.COOKIE_NAME not in response.cookies
