"""Products and variants: Mailchimp rejects an order naming a product it does not know."""
from shoop_mailchimp.mailchimp.errors import MailchimpNotFound


def product_id_for(product):
    return str(product.pk)


def product_payload(product):
    title = (product.safe_translation_getter("name", any_language=True) or product.sku or "").strip()
    title = title[:255] or "Product %s" % product.pk
    variant = {"id": product_id_for(product), "title": title}
    if product.sku:
        variant["sku"] = product.sku[:255]
    return {"id": product_id_for(product), "title": title, "variants": [variant]}


def upsert_product(client, store_id, payload):
    """Update the product in place, creating it when Mailchimp does not have it yet."""
    try:
        return client.stores.products.update(store_id, payload["id"], {"title": payload["title"]})
    except MailchimpNotFound:
        return client.stores.products.create(store_id, payload)
