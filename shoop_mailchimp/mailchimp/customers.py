"""Where a Shuup contact becomes a Mailchimp eCommerce customer."""
from shuup.core.models import CompanyContact, PersonContact

from shoop_mailchimp.mailchimp.errors import MailchimpNotFound
from shoop_mailchimp.mailchimp.members import mailchimp_email

#: Mailchimp's limit for customer ids; ours are short, but names are cut to stay within reason.
MAX_NAME_LENGTH = 255


def customer_id_for(contact_id):
    return str(contact_id)


def _clean(value):
    return (value or "").strip()[:MAX_NAME_LENGTH]


def contact_names(contact):
    """(first name, last name, company) as Mailchimp should see them."""
    if isinstance(contact, PersonContact):
        first, last = _clean(contact.first_name), _clean(contact.last_name)
        if not (first or last) and contact.name:
            first, _, last = _clean(contact.name).partition(" ")
        return first, last, ""
    if isinstance(contact, CompanyContact):
        return "", "", _clean(contact.name)
    return _clean(contact.name), "", ""


def address_payload(address):
    if address is None:
        return None
    data = {
        "address1": _clean(address.street),
        "address2": _clean(address.street2),
        "city": _clean(address.city),
        "province": _clean(address.region),
        "province_code": _clean(address.region_code),
        "postal_code": _clean(address.postal_code),
        "country_code": str(address.country.code) if address.country else "",
    }
    return {key: value for key, value in data.items() if value} or None


def customer_payload(contact, opt_in):
    first, last, company = contact_names(contact)
    payload = {
        "id": customer_id_for(contact.pk),
        "email_address": mailchimp_email(contact.email),
        "opt_in_status": bool(opt_in),
    }
    if first:
        payload["first_name"] = first
    if last:
        payload["last_name"] = last
    if company:
        payload["company"] = company
    address = address_payload(contact.default_billing_address)
    if address:
        payload["address"] = address
    return payload


def upsert_customer(client, store_id, payload):
    return client.stores.customers.create_or_update(store_id, payload["id"], payload)


def delete_customer(client, store_id, customer_id):
    try:
        client.stores.customers.delete(store_id, customer_id)
    except MailchimpNotFound:
        return False
    return True
