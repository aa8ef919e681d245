"""review18d: the attribution cookie follows the shop's cookie consent when it is set, but not when it is read: a
visitor who withdrew their consent to Mailchimp's cookies (Shuup's cookie banner, the category naming ``_mcid``
unticked) goes on being tracked by the 30-day marketing cookie set before (read on every later visit, copied into
the session and onto their orders), and the cookie is never removed."""
import json

import pytest
from django.conf import settings
from django.test import Client
from shuup.gdpr.models import GDPRSettings
from shuup.xtheme import set_current_theme

from shoop_mailchimp.storefront import attribution, site_script

CAMPAIGN = "1a2b3c4d5e"


@pytest.mark.django_db
def test_a_visitor_who_withdrew_cookie_consent_is_no_longer_attributed_by_the_cookie(shop):
    set_current_theme("shuup.themes.classic_gray", shop)
    gdpr = GDPRSettings.get_for_shop(shop)
    gdpr.enabled = True
    gdpr.save()
    consent = settings.SHUUP_GDPR_CONSENT_COOKIE_NAME
    browser = Client()
    browser.cookies[consent] = json.dumps({"groups": [], "cookies": ["sessionid", consent,
                                                                      site_script.MAILCHIMP_COOKIE]})
    response = browser.get("/", {"mc_cid": CAMPAIGN})
    assert attribution.COOKIE_NAME in response.cookies, "accepted: the cookie is set"

    later = Client()  # a later visit, after the visitor unticked Mailchimp's cookies
    later.cookies[consent] = json.dumps({"groups": [], "cookies": ["sessionid", consent]})
    later.cookies[attribution.COOKIE_NAME] = response.cookies[attribution.COOKIE_NAME].value
    later.get("/")
    assert not later.session.get(attribution.SESSION_KEY), \
        "the marketing cookie is still read (and its campaign put on the visitor's orders) without consent"
