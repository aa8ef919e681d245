"""Which shops send to Mailchimp, which contacts belong to which shop, and where a shop's storefront is (the links
Mailchimp mails: products, orders, restore links, promo codes)."""
from django.conf import settings
from django.core.cache import cache
from shuup.core.models import Contact, Order

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.members import address_key
from shoop_mailchimp.models import MailchimpConfiguration

RECORDING_SHOPS_CACHE_KEY = "shoop_mailchimp:recording_shop_ids"
#: Other processes see a configuration change after at most this many seconds (this one at once).
RECORDING_SHOPS_CACHE_SECONDS = 5


def recording_shop_ids():
    """Shops whose changes are recorded (also while paused, so none is lost); cached briefly so that a
    contact save costs no extra query."""
    shop_ids = cache.get(RECORDING_SHOPS_CACHE_KEY)
    if shop_ids is None:
        shop_ids = list(MailchimpConfiguration.objects.recording().values_list("shop_id", flat=True))
        cache.set(RECORDING_SHOPS_CACHE_KEY, shop_ids, RECORDING_SHOPS_CACHE_SECONDS)
    return shop_ids


def forget_recording_shops(**kwargs):
    cache.delete(RECORDING_SHOPS_CACHE_KEY)


def contacts_per_shop():
    return bool(settings.SHUUP_ENABLE_MULTIPLE_SHOPS and settings.SHUUP_MANAGE_CONTACTS_PER_SHOP)


def shop_contacts(shop_id):
    """The contacts of a shop as Shuup's admin lists them."""
    return Contact.objects.filter(shops=shop_id) if contacts_per_shop() else Contact.objects.all()


def address_keys(emails):
    """The keys of these addresses (:func:`~shoop_mailchimp.mailchimp.members.address_key`), blank ones left out."""
    return {address_key(email) for email in emails if (email or "").strip()}


def shop_contacts_with_keys(shop_id, keys):
    """The shop's contacts whose address has one of these keys: any spelling Mailchimp gets as the same mailbox
    (letter case, a domain in Unicode, decomposed or with fullwidth letters, or in punycode), in one indexed query
    on the keys :mod:`shoop_mailchimp.receivers.addresses` stores. ``values_list("pk", "mailchimp_address__key")``
    gives each one's key."""
    return shop_contacts(shop_id).filter(mailchimp_address__key__in=set(keys) - {""})


def address_sharers(shop_id, contact_ids):
    """The ids of the shop's other contacts with the address of one of ``contact_ids`` (one member in Mailchimp, whose
    tags, interests and merge fields count them all): two indexed queries."""
    contact_ids = set(contact_ids)
    keys = set(Contact.objects.filter(pk__in=contact_ids).values_list("mailchimp_address__key", flat=True)) - {None, ""}
    return set(shop_contacts_with_keys(shop_id, keys).values_list("pk", flat=True)) - contact_ids if keys else set()


def shop_contacts_with_address(shop_id, email):
    """The shop's contacts whose address is ``email`` in any spelling Mailchimp gets as the same mailbox
    (:func:`shop_contacts_with_keys`)."""
    return shop_contacts_with_keys(shop_id, address_keys([email]))


def orders_with_keys(keys, orders=None):
    """The orders (of ``orders``, all by default) whose address has one of these keys, as
    :func:`shop_contacts_with_keys`."""
    return (Order.objects.all() if orders is None else orders).filter(mailchimp_address__key__in=set(keys) - {""})


def shop_ids_for_contact(contact, shop_ids=None):
    """The recording shops a contact belongs to (all of them unless Shuup manages contacts per shop)."""
    shop_ids = recording_shop_ids() if shop_ids is None else shop_ids
    if not shop_ids:
        return []
    if contacts_per_shop():
        return list(contact.shops.filter(pk__in=shop_ids).values_list("pk", flat=True))
    return list(shop_ids)


def shop_ids_by_contact(contact_ids, shop_ids=None):
    """``{shop id: contact ids}``: the recording shops (of ``shop_ids``) each of these contacts belongs to, as
    :func:`shop_ids_for_contact` says it, in one query."""
    contact_ids = set(contact_ids)
    shop_ids = recording_shop_ids() if shop_ids is None else shop_ids
    if not shop_ids or not contact_ids:
        return {}
    if not contacts_per_shop():
        return {shop_id: set(contact_ids) for shop_id in shop_ids}
    found = {}
    for contact_id, shop_id in Contact.shops.through.objects.filter(
            contact_id__in=list(contact_ids), shop_id__in=list(shop_ids)).values_list("contact_id", "shop_id"):
        found.setdefault(shop_id, set()).add(contact_id)
    return found


def storefront_url(domain, path):
    """An absolute address in the shop's storefront, from the shop's domain (a bare host, or with its scheme);
    empty when the shop has no domain (Mailchimp would mail a link to nowhere) or when the domain is one label
    such as ``north``: Shuup matches that as the first label of any host (``north.example.com``), so it names
    no host a mail could link to."""
    domain = (domain or "").strip().rstrip("/")
    if not domain:
        return ""
    if "://" in domain:
        return domain + path
    host = domain.split("/", 1)[0].rsplit(":", 1)[0]
    if "." not in host and host != "localhost":
        return ""
    return "https://" + domain + path


def shop_storefront_url(shop, path):
    """An absolute address in the shop's own storefront: the shop's domain first (a bare host, or with its
    scheme), else SHOOP_MAILCHIMP's STOREFRONT_BASE_URL, else its WEBHOOK_BASE_URL; "" when none is set. The
    domain comes first: with several shops, each mails links to its own storefront."""
    for base in (getattr(shop, "domain", None), get_setting("STOREFRONT_BASE_URL"), get_setting("WEBHOOK_BASE_URL")):
        url = storefront_url(base, path)
        if url:
            return url
    return ""
