"""A Shuup order's figures and statuses as Mailchimp order fields. Pure functions of the order and its lines,
no I/O (the order kind loads what they read, in a few queries per slice of rows).

Money follows Mailchimp's official plugins (WooCommerce, Magento 2): line prices, shipping and discounts
without tax, the tax apart in ``tax_total``, and ``order_total`` what the customer was charged, tax
included, less what was refunded. Every amount is in the order's currency, rounded half up to the currency's
decimal places (``places``: :func:`~shoop_mailchimp.sync.kinds.fields.currency_places`, 2 unless told).

The statuses are what makes Mailchimp send its order notifications (see docs/orders.rst): they are sent only
when the shop chose to have Mailchimp send them. A cancellation and a refund reach Mailchimp's revenue figures
either way, through ``cancelled_at_foreign`` and ``order_total``.
"""
from decimal import Decimal
from typing import NamedTuple, Optional

from shuup.core.models import OrderLineType, OrderStatusRole, PaymentStatus, ShippingStatus

from shoop_mailchimp.sync.kinds.fields import address_payload, clean_name, money

#: Mailchimp's financial statuses and the order notification each one sends when it is new on an order.
PENDING, PAID, CANCELLED = "pending", "paid", "cancelled"
REFUNDED, PARTIALLY_REFUNDED = "refunded", "partially_refunded"
#: The fulfillment status of an order all of whose products were shipped (Mailchimp's shipping confirmation).
SHIPPED = "shipped"

#: Line types whose amounts are the order's shipping (and the payment method's fee, which Mailchimp has no
#: field of its own for: the plugins count it with shipping).
SHIPPING_TYPES = (OrderLineType.SHIPPING, OrderLineType.PAYMENT)

#: Fields that say *when* something happened: they change on saves that change nothing Mailchimp shows, so
#: they alone do not make an order worth sending again.
TIMESTAMP_FIELDS = ("updated_at_foreign", "cancelled_at_foreign")


def _without_tax(line, amount):
    """``amount`` (in the order's price mode, like the line's prices) without the line's tax."""
    if not line.price.includes_tax:
        return amount
    taxful, taxless = line.taxful_price.value, line.taxless_price.value
    return amount * taxless / taxful if taxful else amount


def is_cancelled(order):
    return order.status.role == OrderStatusRole.CANCELED or order.payment_status == PaymentStatus.CANCELED


def refunded_amount(lines):
    """What was refunded, tax included (Shuup's refund lines carry negative prices)."""
    return -sum((line.taxful_price.value for line in lines if line.type == OrderLineType.REFUND), Decimal(0))


def financial_status(order, lines):
    """The order's state of payment as Mailchimp names it: a refund wins over a payment, a cancellation over
    everything."""
    if is_cancelled(order):
        return CANCELLED
    if refunded_amount(lines) > 0:
        return REFUNDED if order.taxful_total_price.value <= 0 else PARTIALLY_REFUNDED
    return PAID if order.payment_status == PaymentStatus.FULLY_PAID else PENDING


def fulfillment_status(order):
    return SHIPPED if order.shipping_status == ShippingStatus.FULLY_SHIPPED else None


def status_record(order, lines):
    """The order's statuses as a row keeps them after each send, sent or not (``financial/fulfillment``): an
    order Mailchimp has gets a status again only when it changes (see :func:`new_statuses`)."""
    return "%s/%s" % (financial_status(order, lines), fulfillment_status(order) or "")


def new_statuses(update, record):
    """``update`` (an order's payload for Mailchimp) without the statuses unchanged since the send that kept
    ``record`` (:func:`status_record`; "" for none kept, as before this was kept: all are sent). Mailchimp
    sends a notification when an order gets a status: a status it has is sent again for nothing, and one the
    order had while the shop sent no statuses (turned on later) would send a late notification (an invoice
    for an order paid last month)."""
    if not record:
        return update
    financial, _, fulfillment = record.partition("/")
    statuses_sent = "financial_status" in update
    update = dict(update)
    if update.get("financial_status") == financial:
        del update["financial_status"]
    if "fulfillment_status" in update and update["fulfillment_status"] == fulfillment:
        del update["fulfillment_status"]
    elif fulfillment and statuses_sent and "fulfillment_status" not in update:
        # Shipped no longer (its shipment deleted): Mailchimp keeps a status an update leaves out.
        update["fulfillment_status"] = ""
    return update


def product_lines(lines):
    return [line for line in lines if line.type == OrderLineType.PRODUCT and line.product_id is not None]


def line_payloads(lines, product_ids, places=2):
    """The product lines with their unit price paid and their discount, both without tax. A discount line
    attached to a product line (a campaign's line effect) is that line's discount. ``product_ids(line)``:
    the line's (product id, variant id) in Mailchimp."""
    attached = {}
    for line in lines:
        if line.type == OrderLineType.DISCOUNT and line.parent_line_id:
            attached[line.parent_line_id] = attached.get(line.parent_line_id, Decimal(0)) - line.taxless_price.value
    payloads = []
    for line in product_lines(lines):
        quantity = max(1, int(round(line.quantity)))
        extra_discount = attached.get(line.pk, Decimal(0))
        own_discount = _without_tax(line, line.discount_amount.value)
        paid = line.taxless_price.value - extra_discount
        product_id, variant_id = product_ids(line)
        payloads.append({
            "id": str(line.pk),
            "product_id": product_id,
            "product_variant_id": variant_id,
            "quantity": quantity,
            "price": money(max(paid, Decimal(0)) / quantity, places),
            "discount": money(max(own_discount + extra_discount, Decimal(0)), places),
        })
    return payloads


def discount_total(lines, line_payloads, places=2):
    """The lines' discounts and the order's own discount lines (a basket campaign, a coupon), without tax."""
    order_discounts = -sum((line.taxless_price.value for line in lines
                            if line.type == OrderLineType.DISCOUNT and not line.parent_line_id), Decimal(0))
    return money(sum((Decimal(str(line["discount"])) for line in line_payloads), Decimal(0))
                 + max(order_discounts, Decimal(0)), places)


def shipping_total(lines, places=2):
    return money(max(sum((line.taxless_price.value for line in lines if line.type in SHIPPING_TYPES), Decimal(0)), 0),
                 places)


class LineDiscount(NamedTuple):
    """A coupon campaign's *line effect* as Shuup applies it to the product lines it names (Shuup's
    ``DiscountFromProduct`` and ``DiscountFromCategoryProducts``): ``amount`` off each line (off each unit when
    ``per_unit``), else ``percentage`` of the line's undiscounted price, never more than that price."""

    product_ids: frozenset
    amount: Optional[Decimal] = None
    per_unit: bool = False
    percentage: Optional[Decimal] = None
    #: Whether a variation counts when its parent is named (a category's products do; chosen products do not).
    by_parent: bool = False

    def discount(self, line):
        """What the effect takes off ``line``, in the line's price mode (0 for a line it does not name)."""
        parent_id = getattr(line.product, "variation_parent_id", None) if self.by_parent else None
        if line.product_id not in self.product_ids and (parent_id is None or parent_id not in self.product_ids):
            return Decimal(0)
        base = line.base_unit_price.value * line.quantity
        if self.amount:
            amount = self.amount * line.quantity if self.per_unit else self.amount
        elif self.percentage:
            amount = base * self.percentage
        else:
            return Decimal(0)
        return max(min(base, amount), Decimal(0))


class UsedCoupon(NamedTuple):
    """A coupon an order used, with what its campaign does (the order kind loads it)."""

    code: str
    #: Whether its campaign takes a percentage off (the promo's ``type``).
    percentage: bool
    #: The campaign's line effects.
    line_discounts: tuple = ()
    #: The campaign's supplier, whose product lines alone its line effects discount.
    supplier_id: Optional[int] = None
    #: What it took off at the checkout, without tax (recorded on the order then); None: worked out from the
    #: lines and the campaign's effects as they are now (an order placed before it was recorded).
    amount: Optional[Decimal] = None


def _named_coupon(line, coupons):
    """The coupon a basket discount line is for. Shuup links such a line to nothing but its text: the
    campaign's name, then "(Coupon Code: <code>)". The line is the coupon's whose whole code ends that text, the
    longest such code (so a line of "XSAVE" is never one of "SAVE")."""
    text = (line.text or "").lower()
    named = [index for index, coupon in enumerate(coupons) if text.endswith(" %s)" % coupon.code.lower())]
    return max(named, key=lambda index: len(coupons[index].code), default=None)


def _line_coupon(line, coupons):
    """``(index of the coupon, what its line effect took off)`` for a product line one of the coupons' line
    effects discounted: the largest effect, as Shuup keeps the largest discount; else None."""
    candidates = [(effect.discount(line), index) for index, coupon in enumerate(coupons)
                  if coupon.supplier_id is None or coupon.supplier_id == line.supplier_id
                  for effect in coupon.line_discounts]
    best = max(candidates, default=None, key=lambda candidate: (candidate[0], -candidate[1]))
    return (best[1], best[0]) if best and best[0] > 0 else None


def promo_payloads(lines, coupons, places=2):
    """One promo per coupon code used: the discount its own campaign's effects gave, without tax. A basket
    discount is the discount line Shuup wrote for the coupon; a line effect is the discount on the product lines
    it names, as much as the line really got (another discount may have been larger, and Shuup keeps only the
    largest); the amount a coupon recorded at the checkout, when it did (its campaign may have changed since).
    ``coupons``: :class:`UsedCoupon` (or ``(code, percentage)`` pairs)."""
    coupons = [UsedCoupon(*coupon) for coupon in coupons]
    amounts = [coupon.amount if coupon.amount is not None else computed
               for coupon, computed in zip(coupons, promo_amounts(lines, coupons))]
    return [{"code": coupon.code[:255], "amount_discounted": money(max(amount, Decimal(0)), places),
             "type": "percentage" if coupon.percentage else "fixed"} for coupon, amount in zip(coupons, amounts)]


def promo_amounts(lines, coupons):
    """[Decimal]: what each coupon's campaign took off the lines, without tax, from its effects as the coupons
    carry them (see :func:`promo_payloads`); not rounded."""
    coupons = [UsedCoupon(*coupon) for coupon in coupons]
    amounts = [Decimal(0)] * len(coupons)
    for line in lines:
        if line.type == OrderLineType.DISCOUNT and not line.parent_line_id:
            index = _named_coupon(line, coupons)
            if index is not None:
                amounts[index] -= line.taxless_price.value
    if any(coupon.line_discounts for coupon in coupons):
        for line in product_lines(lines):
            given = line.discount_amount.value
            found = _line_coupon(line, coupons) if given > 0 else None
            if found:
                index, amount = found
                amounts[index] += _without_tax(line, min(amount, given))
    return amounts


#: The fields of an order's address, each sent also empty: Mailchimp keeps a field an update leaves out, so a
#: field cleared in the shop (a wrong second line, a company removed) must be sent empty to be cleared there.
ORDER_ADDRESS_FIELDS = ("address1", "address2", "city", "province", "province_code", "postal_code", "country_code",
                        "name", "company", "phone")


def order_address(address):
    """A billing or shipping address as an order carries it: with the name, company and phone, every field
    present (empty where the shop has nothing); None for no address, or one with nothing in it."""
    if address is None:
        return None
    data = dict.fromkeys(ORDER_ADDRESS_FIELDS, "")
    data.update(address_payload(address) or {})
    data.update(name=clean_name(address.name), company=clean_name(address.company_name),
                phone=clean_name(address.phone))
    return data if any(data.values()) else None
