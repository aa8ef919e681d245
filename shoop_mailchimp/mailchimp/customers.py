"""Where a Shuup contact becomes a Mailchimp eCommerce customer."""
import hashlib

from shuup.core.models import CompanyContact, PersonContact

from shoop_mailchimp.mailchimp.errors import MailchimpNotFound
from shoop_mailchimp.mailchimp.members import mailchimp_email

#: Mailchimp's limit for customer ids; ours are short, but names are cut to stay within reason.
MAX_NAME_LENGTH = 255


def customer_id_for(contact_id):
    return str(contact_id)


def guest_customer_id(email):
    """Guests have no contact: one customer per e-mail address, so that their orders add up."""
    return "guest-" + hashlib.sha256(email.lower().encode("utf-8")).hexdigest()[:32]


def clean_name(value):
    return (value or "").strip()[:MAX_NAME_LENGTH]


def contact_names(contact):
    """(first name, last name, company) as Mailchimp should see them."""
    if isinstance(contact, PersonContact):
        first, last = clean_name(contact.first_name), clean_name(contact.last_name)
        if not (first or last) and contact.name:
            first, _, last = clean_name(contact.name).partition(" ")
        return first, last, ""
    if isinstance(contact, CompanyContact):
        return "", "", clean_name(contact.name)
    return clean_name(contact.name), "", ""


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
