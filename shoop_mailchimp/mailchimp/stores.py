"""The Mailchimp eCommerce store that stands for a shop."""
from shoop_mailchimp.mailchimp.errors import MailchimpNotFound


def store_payload(shop, store_id, list_id):
    payload = {
        "id": store_id,
        "list_id": list_id,
        "name": shop.public_name or shop.name or "Shop %s" % shop.pk,
        "currency_code": shop.currency,
        "platform": "Shuup",
    }
    if shop.domain:
        payload["domain"] = shop.domain
    if shop.contact_address and shop.contact_address.email:
        payload["email_address"] = shop.contact_address.email
    return payload


def get_store(client, store_id):
    try:
        return client.stores.get(store_id)
    except MailchimpNotFound:
        return None


def ensure_store(client, payload):
    """Create the store, or return the existing one; returns (store, created)."""
    existing = get_store(client, payload["id"])
    if existing is not None:
        return existing, False
    return client.stores.create(payload), True
