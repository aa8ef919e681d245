"""Which site this copy of the database runs on: a staging copy of a production database must not
write to production's Mailchimp audience.

A configuration remembers the site it was initialized on (:attr:`MailchimpConfiguration.site`). The
site is the host of ``SHOOP_MAILCHIMP["WEBHOOK_BASE_URL"]`` (a setting, so it differs between
deployments sharing a database dump) or, where that is not set, the shop's domain. A copy that knows
neither while its configuration remembers a site is held too: a staging copy is the one nobody
configured. So is a copy that lacks the setting the configuration's site was named by
(:attr:`MailchimpConfiguration.site_from_setting`), though the shop domain it copied names the same host. Only a
configuration that remembers no site (never initialized) is not compared.
"""
from urllib.parse import urlsplit

from django.db.models import Q
from django.db.models.functions import Lower

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import MailchimpError

#: How a copy that cannot tell its own site is named in the banner.
UNKNOWN_SITE = "an unknown site (neither WEBHOOK_BASE_URL nor the shop's domain is set)"


class SiteMismatch(MailchimpError):
    """This copy runs on another site than the one the configuration was initialized on: nothing is sent."""

    def __init__(self, remembered, here, setting_missing=False):
        if setting_missing:
            where = ("%s as named by the shop's domain only: WEBHOOK_BASE_URL, which named the site where it was "
                     "connected, is not set here" % here)
        else:
            where = here
        super().__init__(
            "This shop was connected to Mailchimp on %s, but this copy of the database runs on %s (a staging "
            "copy?): nothing is sent to Mailchimp from here. Initialize Mailchimp again on this site, or "
            "confirm that this is the same shop at a new address." % (remembered, where))
        self.remembered = remembered
        self.here = here
        self.setting_missing = setting_missing


def configured_host():
    """The host of WEBHOOK_BASE_URL, lower-cased; "" when unset."""
    base_url = get_setting("WEBHOOK_BASE_URL") or ""
    return (urlsplit(base_url).hostname or "").lower() if base_url else ""


def site_of(shop_domain):
    """The site a shop with this domain runs on here ("" when unknown)."""
    return configured_host() or (shop_domain or "").strip().lower()


def on_this_site():
    """A filter on configurations: those initialized here, or that remember no site."""
    host = configured_host()
    if host:
        return Q(site="") | Q(site=host)
    return Q(site="") | Q(site=Lower("shop__domain"), site_from_setting=False)


def named_by_setting():
    """Whether this copy's site is named by WEBHOOK_BASE_URL (else by the shop's domain)."""
    return bool(configured_host())
