"""Which site this copy of the database runs on: a staging copy of a production database must not
write to production's Mailchimp audience.

A configuration remembers the site it was initialized on (:attr:`MailchimpConfiguration.site`). The
site is the host of ``SHOOP_MAILCHIMP["WEBHOOK_BASE_URL"]`` (a setting, so it differs between
deployments sharing a database dump) or, where that is not set, the shop's domain. A copy that knows
neither while its configuration remembers a site is held too: a staging copy is the one nobody
configured. So is a copy that lacks the setting the configuration's site was named by
(:attr:`MailchimpConfiguration.site_from_setting`), though the shop domain it copied names the same host. Only a
configuration that remembers no site (never initialized, or initialized where no site was known) is not compared;
the latter learns the site it first talks to Mailchimp from (``MailchimpConfiguration.learn_site``, called by
``open_session``). :func:`mismatch` decides, for the admin's pages and the drainer's filter alike.
"""
from urllib.parse import urlsplit

from django.db.models import Q

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import MailchimpError

#: How a copy that cannot tell its own site is named in the banner.
UNKNOWN_SITE = "an unknown site (neither WEBHOOK_BASE_URL nor the shop's domain is set)"


class SiteMismatch(MailchimpError):
    """This copy runs on another site than the one the configuration was initialized on: nothing is sent.
    ``here`` is "" when the copy cannot tell its site (``unknown``): nothing can be confirmed there until
    WEBHOOK_BASE_URL or the shop's domain names it."""

    def __init__(self, remembered, here, setting_missing=False):
        self.unknown = not here
        here = here or UNKNOWN_SITE
        if setting_missing:
            where = ("%s as named by the shop's domain only: WEBHOOK_BASE_URL, which named the site where it was "
                     "connected, is not set here" % here)
        else:
            where = here
        if self.unknown:
            way_out = ("Set SHOOP_MAILCHIMP[\"WEBHOOK_BASE_URL\"] in this deployment's settings, or the shop's "
                       "domain, first: then Initialize Mailchimp again on this site, or confirm that this is the "
                       "same shop at a new address.")
        else:
            way_out = ("Initialize Mailchimp again on this site, or confirm that this is the same shop at a new "
                       "address.")
        super().__init__(
            "This shop was connected to Mailchimp on %s, but this copy of the database runs on %s (a staging "
            "copy?): nothing is sent to Mailchimp from here. %s" % (remembered, where, way_out))
        self.remembered = remembered
        #: The site this copy runs on, as the banner names it (:data:`UNKNOWN_SITE` when ``unknown``).
        self.here = here
        self.setting_missing = setting_missing


def host_of(value):
    """The host a shop domain or URL names, written one way: without scheme, port, path or trailing dot, with
    blanks around it stripped, lower-cased, an internationalized name in its Unicode form (``xn--`` labels decoded,
    so ``Kauppa-Ä.example`` and its punycode are one host); "" when none. ``https://Shop.example.com:443/`` and
    ``shop.example.com`` are one site, as the connected site's domain already reads them."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        host = urlsplit(value if "://" in value or value.startswith("//") else "//" + value).hostname or ""
    except ValueError:  # an unclosed "[" (IPv6): kept as written
        host = value
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("idna")
    except UnicodeError:  # not a name IDNA takes (an empty label, a label over 63 characters): as written
        return host


def configured_host():
    """The host of WEBHOOK_BASE_URL (see :func:`host_of`); "" when unset."""
    return host_of(get_setting("WEBHOOK_BASE_URL") or "")


def site_of(shop_domain):
    """The site a shop with this domain runs on here ("" when unknown)."""
    return configured_host() or host_of(shop_domain)


def same_site(remembered, here):
    """Whether two sites are one host, however each was written (a site remembered before :func:`host_of` wrote
    them one way may hold a scheme or a trailing slash)."""
    return host_of(remembered) == host_of(here)


def mismatch(site, site_from_setting, shop_domain):
    """A :class:`SiteMismatch` when a configuration that remembers ``site`` (named by the setting where
    ``site_from_setting``) of a shop with this domain runs on another site here, else None. The one decision of the
    staging guard: the admin's pages (``MailchimpConfiguration.site_mismatch``) and the drainer's filter
    (:func:`on_this_site`) both take it, so no shop is held without the banner saying so."""
    if not site:
        return None
    here = site_of(shop_domain)
    # A copy that cannot tell its own site (no WEBHOOK_BASE_URL, no shop domain) is held too: the copy
    # made for staging is exactly the one nobody configured.
    if not here or not same_site(site, here):
        return SiteMismatch(site, here)
    # Named by the setting where it was initialized, by the copied shop domain here: a copy whose settings
    # lack the setting production has is held, though the domain it copied is production's.
    if site_from_setting and not configured_host():
        return SiteMismatch(site, here, setting_missing=True)
    return None


def on_this_site(configurations):
    """A filter on ``configurations`` (a queryset of them): those initialized here, or that remember no site.
    Decided in Python by :func:`mismatch` for each configuration that remembers a site (a shop or a few): SQL's
    ``LOWER`` folds ASCII only (SQLite; PostgreSQL under the C locale) and would exclude, without a banner, a shop
    the admin's pages show as sending."""
    remembering = configurations.exclude(site="").values_list(
        "pk", "site", "site_from_setting", "shop__domain")
    here = [pk for pk, site, site_from_setting, shop_domain in remembering
            if mismatch(site, site_from_setting, shop_domain) is None]
    return Q(site="") | Q(pk__in=here)


def named_by_setting():
    """Whether this copy's site is named by WEBHOOK_BASE_URL (else by the shop's domain)."""
    return bool(configured_host())
