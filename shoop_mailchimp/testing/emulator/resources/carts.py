"""E-commerce carts and their lines: what feeds Mailchimp's abandoned-cart automations.

Mailchimp's abandoned-cart e-mail goes only to a subscribed member, and needs the cart's ``checkout_url`` (the
e-mail's button); a cart of anybody else is kept and mailed to nobody.
"""

import copy

from .. import rules
from ..errors import invalid, not_found, require
from ..state import subscriber_hash
from .ecommerce import check_campaign, check_lines, order_customer, record_notification, stamped, store_list
from .lists import rule_on
from .registry import handles, merge, page

ABANDONED_CART = "abandoned_cart"


def _cart(ctx, store):
    cart = store.carts.get(ctx.params["cartId"])
    if cart is None:
        raise not_found()
    return cart


def _line(ctx, cart):
    for line in cart["lines"]:
        if line["id"] == ctx.params["lineId"]:
            return line
    raise not_found()


def _mailable(ctx, store, cart):
    """Whether the abandoned-cart e-mail can go: a subscribed member, and a link back to the cart."""
    customer = store.customers.get(cart["customer"]["id"]) or {}
    lst = store_list(ctx, store)
    member = lst.members.get(subscriber_hash(customer.get("email_address") or "")) if lst else None
    return bool(cart.get("checkout_url")) and member is not None and member["status"] == "subscribed"


def _touched(ctx, store, cart):
    """Every cart write (re)starts Mailchimp's abandoned-cart automation for its customer, if it can mail one."""
    stamped(cart)
    if _mailable(ctx, store, cart):
        record_notification(ctx, store, ABANDONED_CART, cart_id=cart["id"], customer_id=cart["customer"]["id"])
    return copy.deepcopy(cart)


@handles("GET", "/ecommerce/stores/{storeId}/carts")
def list_carts(ctx):
    return page(ctx.store().carts.values(), ctx.query, "carts", store_id=ctx.params["storeId"])


@handles("POST", "/ecommerce/stores/{storeId}/carts")
def create_cart(ctx):
    store = ctx.store()
    require(ctx.body, "id", "customer", "currency_code", "order_total", "lines")
    check_campaign(ctx, store, ctx.body)
    if ctx.body["id"] in store.carts:
        raise invalid("A cart with the provided ID already exists.")
    lines = check_lines(store, ctx.body["lines"], discount=False)
    customer = order_customer(ctx, store, ctx.body)
    cart = {"checkout_url": "", "tax_total": 0, "campaign_id": ""}
    merge(cart, ctx.body, exclude=("lines", "customer"))
    cart.update(lines=lines, customer=copy.deepcopy(customer))
    store.carts[cart["id"]] = cart
    return _touched(ctx, store, cart)


@handles("GET", "/ecommerce/stores/{storeId}/carts/{cartId}")
def get_cart(ctx):
    return copy.deepcopy(_cart(ctx, ctx.store()))


@handles("PATCH", "/ecommerce/stores/{storeId}/carts/{cartId}")
def patch_cart(ctx):
    store = ctx.store()
    cart = _cart(ctx, store)
    check_campaign(ctx, store, ctx.body)
    lines = check_lines(store, ctx.body["lines"], discount=False) if "lines" in ctx.body else None
    customer = order_customer(ctx, store, ctx.body) if "customer" in ctx.body else None
    merge(cart, ctx.body, exclude=("id", "lines", "customer"))
    if lines is not None and rule_on(ctx, store_list(ctx, store), rules.CART_PATCH_KEEPS_LINES):
        sent = {line["id"]: line for line in lines}
        cart["lines"] = [sent.pop(line["id"], line) for line in cart["lines"]] + list(sent.values())
    elif lines is not None:
        cart["lines"] = lines
    if customer is not None:
        cart["customer"] = copy.deepcopy(customer)
    return _touched(ctx, store, cart)


@handles("DELETE", "/ecommerce/stores/{storeId}/carts/{cartId}")
def delete_cart(ctx):
    store = ctx.store()
    del store.carts[_cart(ctx, store)["id"]]
    return 204, None


@handles("GET", "/ecommerce/stores/{storeId}/carts/{cartId}/lines")
def list_cart_lines(ctx):
    cart = _cart(ctx, ctx.store())
    return page(cart["lines"], ctx.query, "lines", store_id=ctx.params["storeId"], cart_id=cart["id"])


@handles("POST", "/ecommerce/stores/{storeId}/carts/{cartId}/lines")
def create_cart_line(ctx):
    store = ctx.store()
    cart = _cart(ctx, store)
    if any(line["id"] == ctx.body.get("id") for line in cart["lines"]):
        raise invalid("A cart line with the provided ID already exists.")
    line = check_lines(store, [ctx.body], discount=False)[0]
    cart["lines"].append(line)
    _touched(ctx, store, cart)
    return copy.deepcopy(line)


@handles("GET", "/ecommerce/stores/{storeId}/carts/{cartId}/lines/{lineId}")
def get_cart_line(ctx):
    return copy.deepcopy(_line(ctx, _cart(ctx, ctx.store())))


@handles("PATCH", "/ecommerce/stores/{storeId}/carts/{cartId}/lines/{lineId}")
def patch_cart_line(ctx):
    store = ctx.store()
    cart = _cart(ctx, store)
    line = _line(ctx, cart)
    changed = check_lines(store, [dict(line, **ctx.body)], discount=False)[0]
    line.update(changed)
    _touched(ctx, store, cart)
    return copy.deepcopy(line)


@handles("DELETE", "/ecommerce/stores/{storeId}/carts/{cartId}/lines/{lineId}")
def delete_cart_line(ctx):
    """Mailchimp refuses it (mailchimp/APIv3-examples#48): a line goes by writing its cart without it, or by
    deleting the cart and posting it again."""
    store = ctx.store()
    cart = _cart(ctx, store)
    line = _line(ctx, cart)
    if rule_on(ctx, store_list(ctx, store), rules.CART_LINE_DELETE):
        raise invalid("In order to delete this line item, delete the parent resource.")
    cart["lines"].remove(line)
    _touched(ctx, store, cart)
    return 204, None
