"""Mailchimp's site script (the store's connected site) in every storefront page, through xtheme's resource
injection: site tracking, pop-up forms and browse abandonment. Only where the shop switched it on and sends to
Mailchimp (not disconnected, paused or in a staging copy of the database), never in the admin or xtheme's
editor, and, with the shop's cookie consent (Shuup's GDPR settings) on, only for visitors who accepted a cookie
category naming Mailchimp's cookie (``_mcid``).
"""
import json

from django.apps import apps
from django.conf import settings
from shuup.xtheme.resources import add_resource

from shoop_mailchimp.models import MailchimpConfiguration

#: The cookie Mailchimp's site script sets; a consent category must name it.
MAILCHIMP_COOKIE = "_mcid"


def visitor_accepted_mailchimp(request):
    """Whether the visitor's consent cookie names Mailchimp's cookie; anything malformed is no consent."""
    try:
        consent = json.loads(request.COOKIES.get(settings.SHUUP_GDPR_CONSENT_COOKIE_NAME) or "{}")
    except ValueError:
        return False
    cookies = consent.get("cookies") if isinstance(consent, dict) else None
    return isinstance(cookies, list) and MAILCHIMP_COOKIE in cookies


def cookie_consent_asked(shop):
    """Whether the shop asks its visitors for cookie consent (Shuup's GDPR settings; a request of no known shop
    is taken to ask). Shuup's GDPR app is optional: imported here, at call time, only when installed (without it
    no shop asks)."""
    if not apps.is_installed("shuup.gdpr"):
        return False
    if shop is None:
        return True
    from shuup.gdpr.models import GDPRSettings

    return GDPRSettings.get_for_shop(shop).enabled


def mailchimp_cookies_allowed(request):
    """Whether Mailchimp's tracking (its site script, the attribution cookie) may set cookies in the visitor's
    browser: the shop asks no cookie consent, or the visitor accepted a category naming Mailchimp's cookie."""
    return not cookie_consent_asked(getattr(request, "shop", None)) or visitor_accepted_mailchimp(request)


def script_url(request):
    """The site script to include for this request, or ""."""
    shop = getattr(request, "shop", None)
    match = getattr(request, "resolver_match", None)
    if shop is None or (match is not None and match.app_name == "shuup_admin"):
        return ""
    # Only while the shop sends to Mailchimp (``active``): not after Disconnect, not while paused by an account
    # error, not in a copy of the database running on another site (a staging copy).
    wanted, url = MailchimpConfiguration.objects.active().filter(shop=shop).values_list(
        "site_script_enabled", "site_script_url").first() or (False, "")
    if not (wanted and url):
        return ""
    return url if mailchimp_cookies_allowed(request) else ""


def add_site_script(context, content):
    request = context.get("request")
    view = context.get("view")
    if request is None or type(view).__name__ == "EditorView":
        return
    url = script_url(request)
    if url:
        add_resource(context, "body_end", url)
