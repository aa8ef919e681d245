"""Shuup values as Mailchimp fields: names, addresses, e-mail addresses. Pure functions, no I/O."""
from shuup.core.models import CompanyContact, PersonContact

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.members import mailchimp_email

#: Names are cut to stay within Mailchimp's field limits.
MAX_NAME_LENGTH = 255
#: Kinds of contact, for a Shuup contact or data loaded without one (``ContactData.kind``).
PERSON, COMPANY = "person", "company"

__all__ = ["COMPANY", "PERSON", "address_payload", "clean_name", "contact_kind", "contact_names", "mailchimp_email",
           "shop_storefront_url", "storefront_url"]


def clean_name(value):
    return (value or "").strip()[:MAX_NAME_LENGTH]


def contact_names(contact):
    """(first name, last name, company) as Mailchimp should see them. A company's name is also its
    first name, so that a campaign's greeting ("Hi *|FNAME|*") reads well."""
    kind = contact_kind(contact)
    if kind == PERSON:
        first, last = clean_name(contact.first_name), clean_name(contact.last_name)
        if not (first or last) and contact.name:
            first, _, last = clean_name(contact.name).partition(" ")
        return first, last, ""
    if kind == COMPANY:
        return clean_name(contact.name), "", clean_name(contact.name)
    return clean_name(contact.name), "", ""


def contact_kind(contact):
    if isinstance(contact, PersonContact):
        return PERSON
    if isinstance(contact, CompanyContact):
        return COMPANY
    return getattr(contact, "kind", "")


def address_payload(address):
    if address is None:
        return None
    data = {
        "address1": clean_name(address.street),
        "address2": clean_name(address.street2),
        "city": clean_name(address.city),
        "province": clean_name(address.region),
        "province_code": clean_name(address.region_code),
        "postal_code": clean_name(address.postal_code),
        "country_code": str(address.country.code) if address.country else "",
    }
    return {key: value for key, value in data.items() if value} or None


def storefront_url(domain, path):
    """An absolute address in the shop's storefront, from the shop's domain (a bare host, or with its scheme);
    empty when the shop has no domain (Mailchimp would mail a link to nowhere)."""
    domain = (domain or "").strip().rstrip("/")
    if not domain:
        return ""
    return (domain if "://" in domain else "https://" + domain) + path


def shop_storefront_url(shop, path):
    """An absolute address in the shop's own storefront: the shop's domain first (a bare host, or with its
    scheme), else SHOOP_MAILCHIMP's STOREFRONT_BASE_URL, else its WEBHOOK_BASE_URL; "" when none is set. The
    domain comes first: with several shops, each mails links to its own storefront."""
    for base in (getattr(shop, "domain", None), get_setting("STOREFRONT_BASE_URL"), get_setting("WEBHOOK_BASE_URL")):
        url = storefront_url(base, path)
        if url:
            return url
    return ""
