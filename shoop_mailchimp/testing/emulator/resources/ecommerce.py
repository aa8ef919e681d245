"""E-commerce stores, customers, products (with variants) and orders; the notifications they trigger."""

import copy

from .. import rules
from ..errors import ApiError, invalid, not_found, require
from ..state import Store, now_iso, random_hex, subscriber_hash
from .lists import (
    COMPLIANCE_STATUSES,
    change_status,
    check_can_subscribe,
    check_email,
    check_not_fake,
    new_member,
    rule_on,
    set_status,
)
from .merge_fields import customer_merge_fields
from .registry import handles, merge, page

#: The order notification Mailchimp sends when an order gets one of these statuses.
FINANCIAL_NOTIFICATIONS = {
    "pending": "order_confirmation",
    "paid": "order_invoice",
    "cancelled": "cancellation_confirmation",
    "refunded": "refund_confirmation",
}
FULFILLMENT_NOTIFICATIONS = {"shipped": "shipping_confirmation"}


def stamped(data, created=True):
    stamp = now_iso()
    if created:
        data.setdefault("created_at", stamp)
    data["updated_at"] = stamp
    return data


# Stores ------------------------------------------------------------------------------------------


def site_script(foreign_id):
    url = f"https://chimpstatic.com/mcjs-connected/js/users/{random_hex(24)}/{foreign_id}.js"
    return {"url": url, "fragment": f'<script id="mcjs">!function(c,h,i,m,p){{m=c.createElement(h),'
                                    f'p=c.getElementsByTagName(h)[0],m.async=1,m.src=i,p.parentNode.insertBefore(m,p)}}'
                                    f'(document,"script","{url}");</script>'}


def _store_site(ctx, store):
    """A store created with a domain comes with its connected site, whose id is the store's (Mailchimp's
    WooCommerce plugin reads ``connected-sites/{store id}`` after creating the store, mc-magento2#214: "the store is
    created with connected_site attributes, like site_script"); a domain that has a site already makes the store
    "not connected" (only one store per domain)."""
    domain = store.data.get("domain") or ""
    sites = ctx.account.connected_sites
    if not domain or not rule_on(ctx, store_list(ctx, store), rules.STORE_SITE) or store.id in sites:
        return
    if any(site.get("domain") == domain for site in sites.values()):
        return
    sites[store.id] = stamped({"foreign_id": store.id, "store_id": store.id, "platform": store.data.get("platform", ""),
                               "domain": domain, "site_script": site_script(store.id)})


def store_view(ctx, store):
    """The store as Mailchimp answers it: with its ``connected_site`` (the site of the store's id), if any."""
    data = copy.deepcopy(store.data)
    site = ctx.account.connected_sites.get(store.id)
    if site is not None:
        data["connected_site"] = {"site_foreign_id": site["foreign_id"],
                                  "site_script": copy.deepcopy(site["site_script"])}
    return data


@handles("GET", "/ecommerce/stores")
def list_stores(ctx):
    return page((store_view(ctx, s) for s in ctx.account.stores.values()), ctx.query, "stores")


@handles("POST", "/ecommerce/stores")
def create_store(ctx):
    require(ctx.body, "id", "list_id", "name", "currency_code")
    if ctx.body["list_id"] not in ctx.account.lists:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "list_id", "message": "The list_id could not be found."}],
        )
    if ctx.body["id"] in ctx.account.stores:
        raise invalid("A store with the provided ID already exists.")
    data = {
        "platform": "",
        "domain": "",
        "is_syncing": False,
        "email_address": "",
        "money_format": "",
        "primary_locale": "",
        "timezone": "",
        "phone": "",
        "list_is_active": True,
    }
    data.update(copy.deepcopy(ctx.body))
    data.pop("connected_site", None)  # read-only
    store = Store(stamped(data))
    ctx.account.stores[store.id] = store
    _store_site(ctx, store)
    return store_view(ctx, store)


@handles("GET", "/ecommerce/stores/{storeId}")
def get_store(ctx):
    return store_view(ctx, ctx.store())


@handles("PATCH", "/ecommerce/stores/{storeId}")
def patch_store(ctx):
    store = ctx.store()
    if ctx.body.get("list_id") not in (None, store.data["list_id"]):
        raise invalid("The list_id of a store cannot be changed.")
    merge(store.data, ctx.body, exclude=("id", "connected_site"))
    stamped(store.data, created=False)
    return store_view(ctx, store)


@handles("DELETE", "/ecommerce/stores/{storeId}")
def delete_store(ctx):
    del ctx.account.stores[ctx.store().id]
    return 204, None


# Customers ---------------------------------------------------------------------------------------


def store_list(ctx, store):
    return ctx.account.lists.get(store.data["list_id"])


def record_notification(ctx, store, kind, **ids):
    """Record an order notification or automation Mailchimp would trigger, unless the store is syncing."""
    if store.data.get("is_syncing") or not rule_on(ctx, store_list(ctx, store), rules.NOTIFICATIONS):
        return
    ctx.account.notifications.append(dict(ids, store_id=store.id, kind=kind, at=now_iso()))


def sync_customer_member(ctx, store, customer, previous_opt_in, opt_in):
    """Add or update the customer's member as Mailchimp does; raises before changing anything.

    ``opt_in`` is True when the write sends ``opt_in_status: true``; ``previous_opt_in`` is the
    customer's ``opt_in_status`` before this write (None: a new customer).
    A missing member is added, ``subscribed`` with opt-in, else ``transactional``. With the
    ``customer_opt_in`` rule on, an existing member is subscribed only when an existing customer's
    ``opt_in_status`` turns from false to true, and never changed otherwise; with it off, any
    opt-in lifts a transactional member (the emulator's old, kinder behaviour).
    """
    lst = store_list(ctx, store)
    if lst is None or not customer.get("email_address"):
        return
    hashed = subscriber_hash(customer["email_address"])
    if hashed in lst.forgotten:
        return
    member = lst.members.get(hashed)
    if member is not None and member["status"] == "archived":
        # Store activity unarchives a contact (Mailchimp's help, "Archive or Unarchive Contacts"): the same member
        # (its id, data and tags), subscribed only by an opt-in Mailchimp accepts; otherwise transactional, or
        # unsubscribed or cleaned as before (a compliance state outlives archiving). Which status Mailchimp gives
        # is not documented: the emulator takes the one that never mails anybody who did not opt in.
        if opt_in:
            check_can_subscribe(ctx, lst, member)
        previous = lst.archived_status.pop(member["id"], None)
        kept = previous if previous in COMPLIANCE_STATUSES else "transactional"
        set_status(member, "subscribed" if opt_in else kept)
    elif member is None:
        names = customer_merge_fields(ctx, lst, customer)
        new_member(
            ctx,
            lst,
            customer["email_address"],
            "subscribed" if opt_in else "transactional",
            {"merge_fields": names},
            validate=False,
        )
    elif rule_on(ctx, lst, rules.CUSTOMER_OPT_IN):
        if opt_in and previous_opt_in is False and member["status"] != "subscribed":
            change_status(ctx, lst, member, "subscribed")
    elif member["status"] == "transactional" and opt_in:
        set_status(member, "subscribed")


CUSTOMER_DEFAULTS = {
    "email_address": "",
    "opt_in_status": False,
    "company": "",
    "first_name": "",
    "last_name": "",
    "orders_count": 0,
    "total_spent": 0,
    "address": {},
}


def upsert_customer(ctx, store, body, create_only=False, customer_id=None):
    customer_id = customer_id or body.get("id")
    existing = store.customers.get(customer_id)
    if existing is not None and create_only:
        raise invalid("A customer with the provided ID already exists.")
    if existing is None:
        require(body, "id", "email_address")
    if "email_address" in body:
        email = check_email(body["email_address"])
        if existing is None or subscriber_hash(email) != subscriber_hash(existing["email_address"]):
            check_not_fake(ctx, store_list(ctx, store), email)
    customer = copy.deepcopy(existing) if existing else dict(copy.deepcopy(CUSTOMER_DEFAULTS), id=customer_id)
    merge(customer, body, exclude=("id", "orders_count", "total_spent"))
    previous_opt_in = existing["opt_in_status"] if existing else None
    sync_customer_member(ctx, store, customer, previous_opt_in, body.get("opt_in_status") is True)
    stamped(customer)
    store.customers[customer_id] = customer
    return customer


def _customer(ctx, store):
    customer = store.customers.get(ctx.params["customerId"])
    if customer is None:
        raise not_found()
    return customer


@handles("GET", "/ecommerce/stores/{storeId}/customers")
def list_customers(ctx):
    customers = ctx.store().customers.values()
    if ctx.query.get("email_address"):
        customers = [c for c in customers if c["email_address"].lower() == ctx.query["email_address"].lower()]
    return page(customers, ctx.query, "customers", store_id=ctx.params["storeId"])


@handles("POST", "/ecommerce/stores/{storeId}/customers")
def create_customer(ctx):
    store = ctx.store()
    require(ctx.body, "id", "email_address", "opt_in_status")
    return copy.deepcopy(upsert_customer(ctx, store, ctx.body, create_only=True))


@handles("GET", "/ecommerce/stores/{storeId}/customers/{customerId}")
def get_customer(ctx):
    return copy.deepcopy(_customer(ctx, ctx.store()))


@handles("PUT", "/ecommerce/stores/{storeId}/customers/{customerId}")
def put_customer(ctx):
    store = ctx.store()
    require(ctx.body, "id", "email_address", "opt_in_status")
    if ctx.body["id"] != ctx.params["customerId"]:
        raise invalid("The customer id in the URL does not match the id in the body.")
    return copy.deepcopy(upsert_customer(ctx, store, ctx.body))


@handles("PATCH", "/ecommerce/stores/{storeId}/customers/{customerId}")
def patch_customer(ctx):
    store = ctx.store()
    customer = _customer(ctx, store)
    return copy.deepcopy(upsert_customer(ctx, store, ctx.body, customer_id=customer["id"]))


@handles("DELETE", "/ecommerce/stores/{storeId}/customers/{customerId}")
def delete_customer(ctx):
    store = ctx.store()
    del store.customers[_customer(ctx, store)["id"]]
    return 204, None


# Products and variants ---------------------------------------------------------------------------

VARIANT_DEFAULTS = {
    "url": "",
    "sku": "",
    "price": 0,
    "inventory_quantity": 0,
    "image_url": "",
    "backorders": "",
    "visibility": "",
}


def _variant(body):
    require(body, "id", "title")
    variant = dict(VARIANT_DEFAULTS)
    variant.update(copy.deepcopy(body))
    return stamped(variant)


def _check_variants(variants):
    """A product has at least one variant, and a variant id names one variant of the product."""
    if not isinstance(variants, list) or not variants:
        raise invalid("The resource submitted could not be validated.",
                      errors=[{"field": "variants", "message": "A product must have at least one variant."}])
    ids = [variant.get("id") for variant in variants if isinstance(variant, dict)]
    if len(ids) != len(set(ids)):
        raise invalid("The resource submitted could not be validated.",
                      errors=[{"field": "variants", "message": "Variant ids must be unique within a product."}])


def _product_from(body, existing=None):
    require(body, "id", "title", "variants")
    _check_variants(body["variants"])
    product = {
        "handle": "",
        "url": "",
        "description": "",
        "type": "",
        "vendor": "",
        "image_url": "",
        "images": [],
        "published_at_foreign": "",
    }
    product.update(copy.deepcopy(body))
    product["variants"] = [_variant(v) for v in body["variants"]]
    if existing:
        product["created_at"] = existing["created_at"]
    return stamped(product)


def _product(ctx, store):
    product = store.products.get(ctx.params["productId"])
    if product is None:
        raise not_found()
    return product


@handles("GET", "/ecommerce/stores/{storeId}/products")
def list_products(ctx):
    return page(ctx.store().products.values(), ctx.query, "products", store_id=ctx.params["storeId"])


@handles("POST", "/ecommerce/stores/{storeId}/products")
def create_product(ctx):
    store = ctx.store()
    if ctx.body.get("id") in store.products:
        raise invalid("A product with the provided ID already exists in the account.")
    product = _product_from(ctx.body)
    store.products[product["id"]] = product
    return copy.deepcopy(product)


@handles("GET", "/ecommerce/stores/{storeId}/products/{productId}")
def get_product(ctx):
    return copy.deepcopy(_product(ctx, ctx.store()))


@handles("PUT", "/ecommerce/stores/{storeId}/products/{productId}")
def put_product(ctx):
    store = ctx.store()
    body = dict(ctx.body, id=ctx.params["productId"])
    product = _product_from(body, store.products.get(body["id"]))
    store.products[product["id"]] = product
    return copy.deepcopy(product)


@handles("PATCH", "/ecommerce/stores/{storeId}/products/{productId}")
def patch_product(ctx):
    product = _product(ctx, ctx.store())
    if "variants" in ctx.body:
        _check_variants(ctx.body["variants"])
        for body in ctx.body["variants"]:
            require(body, "id")
            if not any(variant["id"] == body["id"] for variant in product["variants"]):
                require(body, "title")
    if "title" in ctx.body and not str(ctx.body["title"] or "").strip():
        require({}, "title")
    merge(product, ctx.body, exclude=("id", "variants"))
    for body in ctx.body.get("variants") or []:
        _upsert_variant(product, body)
    return copy.deepcopy(stamped(product))


def _upsert_variant(product, body):
    for variant in product["variants"]:
        if variant["id"] == body.get("id"):
            merge(variant, body, exclude=("id",))
            return stamped(variant)
    variant = _variant(body)
    product["variants"].append(variant)
    return variant


@handles("DELETE", "/ecommerce/stores/{storeId}/products/{productId}")
def delete_product(ctx):
    """Mailchimp deletes a product whatever names it: orders keep their lines as sent, but a later write of
    such an order (or a cart) naming it is refused by :func:`check_lines`."""
    store = ctx.store()
    del store.products[_product(ctx, store)["id"]]
    return 204, None


def _find_variant(ctx, product):
    for variant in product["variants"]:
        if variant["id"] == ctx.params["variantId"]:
            return variant
    raise not_found()


@handles("GET", "/ecommerce/stores/{storeId}/products/{productId}/variants")
def list_variants(ctx):
    product = _product(ctx, ctx.store())
    return page(
        product["variants"], ctx.query, "variants", store_id=ctx.params["storeId"], product_id=product["id"]
    )


@handles("POST", "/ecommerce/stores/{storeId}/products/{productId}/variants")
def create_variant(ctx):
    product = _product(ctx, ctx.store())
    if any(v["id"] == ctx.body.get("id") for v in product["variants"]):
        raise invalid("A variant with the provided ID already exists.")
    return copy.deepcopy(_upsert_variant(product, ctx.body))


@handles("GET", "/ecommerce/stores/{storeId}/products/{productId}/variants/{variantId}")
def get_variant(ctx):
    return copy.deepcopy(_find_variant(ctx, _product(ctx, ctx.store())))


@handles("PUT", "/ecommerce/stores/{storeId}/products/{productId}/variants/{variantId}")
def put_variant(ctx):
    product = _product(ctx, ctx.store())
    return copy.deepcopy(_upsert_variant(product, dict(ctx.body, id=ctx.params["variantId"])))


@handles("PATCH", "/ecommerce/stores/{storeId}/products/{productId}/variants/{variantId}")
def patch_variant(ctx):
    product = _product(ctx, ctx.store())
    variant = _find_variant(ctx, product)
    return copy.deepcopy(_upsert_variant(product, dict(ctx.body, id=variant["id"])))


@handles("DELETE", "/ecommerce/stores/{storeId}/products/{productId}/variants/{variantId}")
def delete_variant(ctx):
    product = _product(ctx, ctx.store())
    variant = _find_variant(ctx, product)
    if len(product["variants"]) == 1:
        raise invalid("A product must have at least one variant: delete the product instead.")
    product["variants"].remove(variant)
    return 204, None


# Orders ------------------------------------------------------------------------------------------


#: Amounts of an order (and of its lines) that cannot be negative.
ORDER_AMOUNTS = ("order_total", "tax_total", "shipping_total", "discount_total")
LINE_AMOUNTS = ("price", "discount")


def check_amounts(data, names, field_prefix=""):
    for name in names:
        value = data.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise invalid(
                "The resource submitted could not be validated.",
                errors=[{"field": field_prefix + name, "message": "This value should be greater than or equal to 0."}],
            )


def check_lines(store, lines, discount=True):
    """Order (or cart) lines naming products and variants the store has, with their titles added: at least one,
    each id once, no negative price or quantity."""
    if not lines:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "lines", "message": "At least one line item is required."}],
        )
    line_ids = [line.get("id") for line in lines]
    duplicates = sorted({str(line_id) for line_id in line_ids if line_ids.count(line_id) > 1})
    if duplicates:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "lines.id", "message": f"Line ids must be unique: {', '.join(duplicates)}."}],
        )
    checked = []
    for line in lines:
        require(line, "id", "product_id", "product_variant_id", "quantity", "price")
        check_amounts(line, LINE_AMOUNTS + ("quantity",), "lines.")
        product = store.products.get(line["product_id"])
        if product is None:
            raise invalid(
                f"A product with the provided ID ('{line['product_id']}') does not exist in the store.",
                errors=[{"field": "lines.product_id", "message": "Product not found."}],
            )
        variant = next((v for v in product["variants"] if v["id"] == line["product_variant_id"]), None)
        if variant is None:
            raise invalid(
                f"A product variant with the provided ID ('{line['product_variant_id']}') does not exist "
                f"for product '{line['product_id']}'.",
                errors=[{"field": "lines.product_variant_id", "message": "Variant not found."}],
            )
        data = {"discount": 0} if discount else {}
        data.update(copy.deepcopy(line))
        data.update(product_title=product["title"], product_variant_title=variant["title"])
        checked.append(data)
    return checked


def order_customer(ctx, store, body):
    customer_body = body.get("customer") or {}
    require(customer_body, "id")
    if customer_body["id"] not in store.customers and not customer_body.get("email_address"):
        raise invalid(
            "The order's customer does not exist in the store, so it needs an email_address.",
            errors=[{"field": "customer.email_address", "message": "This value should not be blank."}],
        )
    return upsert_customer(
        ctx,
        store,
        dict(customer_body, opt_in_status=customer_body.get("opt_in_status", False))
        if customer_body["id"] not in store.customers
        else customer_body,
    )


def check_campaign(ctx, store, body):
    """An order or cart may name only a campaign of the account (``campaign_ids`` rule)."""
    campaign_id = body.get("campaign_id")
    if not campaign_id or not rule_on(ctx, store_list(ctx, store), rules.CAMPAIGN_IDS):
        return
    if campaign_id not in ctx.account.campaigns:
        # Mailchimp's words (seen in its WooCommerce and Magento plugins' logs), with the field named.
        raise invalid(
            "A campaign with the provided ID does not exist in the account for this list.",
            errors=[{"field": "campaign_id", "message": f"A campaign with the provided ID ('{campaign_id}') does "
                                                        "not exist in the account."}],
        )


def _save_order(ctx, store, body, existing=None):
    if existing is None:
        require(body, "id", "customer", "currency_code", "order_total", "lines")
    check_campaign(ctx, store, body)
    order = (
        copy.deepcopy(existing)
        if existing
        else {
            "store_id": store.id,
            "financial_status": "",
            "fulfillment_status": "",
            "landing_site": "",
            "tax_total": 0,
            "shipping_total": 0,
            "discount_total": 0,
            "processed_at_foreign": "",
            "cancelled_at_foreign": "",
            "updated_at_foreign": "",
            "promos": [],
        }
    )
    check_amounts(body, ORDER_AMOUNTS)
    lines = check_lines(store, body["lines"]) if "lines" in body else None
    customer = order_customer(ctx, store, body) if "customer" in body else None
    merge(order, body, exclude=("lines", "customer"))
    if lines is not None:
        order["lines"] = lines
    if customer is not None:
        order["customer"] = copy.deepcopy(customer)
    stamped(order)
    store.orders[order["id"]] = order
    _recount(store, order["customer"]["id"])
    _notify_order(ctx, store, order, existing)
    return order


def _notify_order(ctx, store, order, existing):
    """Order notifications fire when an order gets a status that triggers one (new, or changed)."""
    triggers = (("financial_status", FINANCIAL_NOTIFICATIONS), ("fulfillment_status", FULFILLMENT_NOTIFICATIONS))
    for key, kinds in triggers:
        status = str(order.get(key) or "").lower()
        before = str(existing.get(key) or "").lower() if existing else None
        if status in kinds and status != before:
            record_notification(ctx, store, kinds[status], order_id=order["id"], customer_id=order["customer"]["id"])


def _check_order_id_free(ctx, store, order_id):
    """Order ids are unique in the account with the ``account_order_ids`` rule on, else per store."""
    if not rule_on(ctx, store_list(ctx, store), rules.ACCOUNT_ORDER_IDS):
        if order_id in store.orders:
            raise invalid("An order with the provided ID already exists.")
        return
    if any(order_id in other.orders for other in ctx.account.stores.values()):
        raise ApiError(
            400,
            "We were unable to process the request. An order with the provided ID already exists in the account.",
            title="Bad Request",
        )


def is_cancelled(order):
    """A cancelled order (``cancelled_at_foreign`` set, or the status ``cancelled``) counts for no revenue."""
    return bool(order.get("cancelled_at_foreign")) or str(order.get("financial_status") or "").lower() == "cancelled"


def _recount(store, customer_id):
    """The customer's orders and what they spent: what their orders that stand were charged (a refund lowers an
    order's total)."""
    customer = store.customers.get(customer_id)
    if customer is None:
        return
    orders = [o for o in store.orders.values() if o["customer"]["id"] == customer_id]
    customer["orders_count"] = len(orders)
    customer["total_spent"] = round(sum(float(o.get("order_total") or 0) for o in orders if not is_cancelled(o)), 2)


def _order(ctx, store):
    order = store.orders.get(ctx.params["orderId"])
    if order is None:
        raise not_found()
    return order


@handles("GET", "/ecommerce/stores/{storeId}/orders")
def list_orders(ctx):
    orders = ctx.store().orders.values()
    if ctx.query.get("customer_id"):
        orders = [o for o in orders if o["customer"]["id"] == ctx.query["customer_id"]]
    return page(orders, ctx.query, "orders", store_id=ctx.params["storeId"])


@handles("POST", "/ecommerce/stores/{storeId}/orders")
def create_order(ctx):
    store = ctx.store()
    _check_order_id_free(ctx, store, ctx.body.get("id"))
    return copy.deepcopy(_save_order(ctx, store, ctx.body))


@handles("GET", "/ecommerce/stores/{storeId}/orders/{orderId}")
def get_order(ctx):
    return copy.deepcopy(_order(ctx, ctx.store()))


@handles("PUT", "/ecommerce/stores/{storeId}/orders/{orderId}")
def put_order(ctx):
    store = ctx.store()
    body = dict(ctx.body, id=ctx.params["orderId"])
    existing = store.orders.get(body["id"])
    if existing is None:
        _check_order_id_free(ctx, store, body["id"])
    return copy.deepcopy(_save_order(ctx, store, body, existing))


@handles("PATCH", "/ecommerce/stores/{storeId}/orders/{orderId}")
def patch_order(ctx):
    store = ctx.store()
    order = _order(ctx, store)
    return copy.deepcopy(_save_order(ctx, store, dict(ctx.body, id=order["id"]), order))


@handles("DELETE", "/ecommerce/stores/{storeId}/orders/{orderId}")
def delete_order(ctx):
    store = ctx.store()
    order = _order(ctx, store)
    del store.orders[order["id"]]
    _recount(store, order["customer"]["id"])
    return 204, None
