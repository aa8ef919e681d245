"""The store's connected site in Mailchimp: the site script that gives the storefront site tracking, pop-up
forms and browse abandonment. Initialization links it (an existing site of the same id: Mailchimp makes one with a
store created with a domain; else a new one for the storefront's domain; a site of another domain is made again
for this one); :mod:`shoop_mailchimp.storefront.site_script`
puts the script in the pages. When the shop's domain changes, the ``FOLLOW_DOMAIN`` job (:func:`follow_domain`) moves
the site and the store's ``domain`` to it. The store's domain and the site's are one: the storefront's host
(:func:`site_domain`). The script of a site deleted here is forgotten at once (:func:`forget_script`): a site that
could not be created again leaves the storefront with no script rather than a dead one.
"""
from urllib.parse import urlsplit

from shoop_mailchimp.mailchimp import errors, resources
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError
from shoop_mailchimp.models import LogKind, MailchimpConfiguration
from shoop_mailchimp.shops import shop_storefront_url


def site_domain(shop):
    """The host of the shop's storefront, as restore links name it (the shop's domain first, with or without
    its scheme): the connected site's domain and the store's."""
    return urlsplit(shop_storefront_url(shop, "/")).hostname or ""


def forget_script(configuration):
    """The configuration's connected site was deleted in Mailchimp: the storefront stops including its script now
    (saved at once: the site made again may fail to come)."""
    configuration.site_script_url = ""
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(site_script_url="")


def link_connected_site(session, configuration, store_id, journal):
    """The site script URL of the store's connected site, created if missing; "" when it cannot be had (no
    domain known, Mailchimp refused): initialization goes on without it."""
    try:
        return _site_for_domain(session, configuration, store_id, journal)
    except MailchimpAPIError as error:
        journal.add("site.link", "No connected site: %s" % error, kind=LogKind.WARNING, extra=error.as_log_data())
        return ""


def follow_domain(session, configuration, journal):
    """The storefront's domain changed (or the shop has one at last): the store's ``domain`` follows it (Mailchimp
    takes it in a PATCH of the store), and so does the connected site. Returns the site script URL the storefront
    includes now (the one it had when nothing could be done); raises MailchimpError."""
    domain = site_domain(configuration.shop)
    if domain:
        session.patch(resources.store_path(configuration.store_id), {"domain": domain})
        journal.add("store.domain", "Store %r: its domain is %s now" % (configuration.store_id, domain))
    return _site_for_domain(session, configuration, configuration.store_id, journal) or configuration.site_script_url


def _site_for_domain(session, configuration, store_id, journal):
    """The script URL of the store's connected site for the storefront's domain: the site found, or created.
    Mailchimp cannot change a connected site's domain (the API has no update of it): a site of another domain is
    deleted (its script forgotten at once) and created again for this one, with a new script URL. Without a known
    domain an existing site stays as it is; "" when there is none. Raises MailchimpAPIError."""
    shop = configuration.shop
    site = resources.get_or_none(session, resources.connected_site_path(store_id))
    domain = site_domain(shop)
    if not domain:
        if site is None:
            journal.add("site.link", "No connected site: the shop has no domain (set the shop's domain or "
                        "SHOOP_MAILCHIMP STOREFRONT_BASE_URL)", kind=LogKind.WARNING)
            return ""
        journal.add("site.link", "Connected site %r of %s stays as it is: the shop has no domain (set the shop's "
                    "domain or SHOOP_MAILCHIMP STOREFRONT_BASE_URL)" % (store_id, site.get("domain")),
                    kind=LogKind.WARNING)
    elif site is not None and site.get("domain") != domain:
        session.delete(resources.connected_site_path(store_id))
        forget_script(configuration)
        journal.add("site.link", "Connected site %r of %s deleted: Mailchimp cannot move a site to another domain"
                    % (store_id, site.get("domain")))
        site = None
    elif site is not None:
        journal.add("site.link", "Connected site %r found" % store_id)
    if site is None:
        try:
            site = session.post(resources.connected_site_path(), {"foreign_id": store_id, "domain": domain})
        except MailchimpAPIError as error:
            if not errors.already_exists(error):
                raise
            # Mailchimp made the store's own site meanwhile (it comes with a store created with a domain).
            site = session.get(resources.connected_site_path(store_id))
            journal.add("site.link", "Connected site %r found" % store_id)
        else:
            journal.add("site.link", "Connected site %r created for %s" % (store_id, domain))
    return (site.get("site_script") or {}).get("url", "")
