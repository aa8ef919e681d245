"""The store's connected site in Mailchimp: the site script that gives the storefront site tracking, pop-up
forms and browse abandonment. Initialization links it (an existing site of the same id, else a new one for the
storefront's domain); :mod:`shoop_mailchimp.storefront.site_script` puts the script in the pages.
"""
from urllib.parse import urlsplit

from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError
from shoop_mailchimp.models import LogKind
from shoop_mailchimp.sync.kinds.fields import shop_storefront_url


def site_domain(shop):
    """The host of the shop's storefront, as restore links name it (the shop's domain first, with or without
    its scheme)."""
    return urlsplit(shop_storefront_url(shop, "/")).hostname or ""


def link_connected_site(session, shop, store_id, journal):
    """The site script URL of the store's connected site, created if missing; "" when it cannot be had (no
    domain known, Mailchimp refused): initialization goes on without it."""
    try:
        site = resources.get_or_none(session, resources.connected_site_path(store_id))
        if site is None:
            domain = site_domain(shop)
            if not domain:
                journal.add("site.link", "No connected site: the shop has no domain (set the shop's domain or "
                            "SHOOP_MAILCHIMP STOREFRONT_BASE_URL)", kind=LogKind.WARNING)
                return ""
            site = session.post(resources.connected_site_path(), {"foreign_id": store_id, "domain": domain})
            journal.add("site.link", "Connected site %r created for %s" % (store_id, domain))
        else:
            journal.add("site.link", "Connected site %r found" % store_id)
    except MailchimpAPIError as error:
        journal.add("site.link", "No connected site: %s" % error, kind=LogKind.WARNING, extra=error.as_log_data())
        return ""
    return (site.get("site_script") or {}).get("url", "")
