"""The price a product is sent with: what an anonymous visitor of the shop sees on the storefront.

Shuup's storefront prices a product through its pricing pipeline (the pricing module, then every discount
module: ``shuup.core.pricing.get_price_info``) for the visitor's contact, an ``AnonymousContact`` for a
visitor not logged in, and the supplier the product page prices with (``ProductDetailView``: the shop
product's ``get_supplier``, Shuup's supplier strategy; a discount limited to that supplier is the sale price
every visitor sees there; a variation child is priced with its parent page's supplier, see
:meth:`VisitorPrices.page_suppliers`), and shows it with or without tax as the price display options of the
visitor's contact group say (``Contact.get_price_display_options``: the anonymous group's
``ContactGroupPriceDisplay`` for the shop; none set, prices are shown as the shop enters them), converting
it as ``convert_taxness`` does.

A catalogue of thousands of variants is not priced one query set per variant: with Shuup's own modules
(customer group pricing, customer group discounts, product discounts), a product that no rule for anonymous
visitors concerns is priced as those modules price it, at its shop product's price, from the rows already
loaded; only the products a rule may concern go through the pipeline. With any other module, every product
does. The product page's supplier is read for many shop products in two queries with Shuup's default
strategy (the first enabled supplier of the shop product, by id), asked of the strategy per product with any
other. Taxes are converted with the tax rules read once per tax class (Shuup's default tax module), or through
the configured tax module.
"""
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Min, Q, Subquery
from django.utils import timezone
from django.utils.functional import cached_property
from shuup.core.models import (
    AnonymousContact,
    ShopProduct,
    Supplier,
    TaxClass,
    get_price_display_for_group_and_shop,
)
from shuup.core.pricing import PricingContext, get_price_info
from shuup.core.taxing import get_tax_module, should_calculate_taxes_automatically

#: Shuup's modules whose rules for anonymous visitors are read in bulk (see :meth:`VisitorPrices._ruled`).
KNOWN_PRICING_MODULES = ("customer_group_pricing",)
KNOWN_DISCOUNT_MODULES = ("customer_group_discount", "product_discounts")
#: Shuup's default supplier strategy (``SHUUP_SHOP_PRODUCT_SUPPLIERS_STRATEGY``), whose choice is read in bulk
#: (see :meth:`VisitorPrices.suppliers`).
FIRST_SUPPLIER_STRATEGY = "shuup.core.suppliers.FirstSupplierStrategy"


def anonymous_group_id():
    return AnonymousContact.get_default_group().pk


def discounts_for_visitors(shop_ids=None, now=None, group_id=None):
    """``shuup.discounts`` Discounts that may change what an anonymous visitor pays: active (not ended at
    ``now``, when given), for no one contact, for every group or the anonymous one (``group_id``, when known);
    also those limited to a supplier (the product page prices with its shop product's supplier: such a
    discount concerns the products that supplier supplies)."""
    from shuup.discounts.models import Discount

    discounts = Discount.objects.filter(active=True, contact__isnull=True).filter(
        Q(contact_group__isnull=True) | Q(contact_group_id=group_id or anonymous_group_id()))
    if now is not None:
        discounts = discounts.filter(Q(end_datetime__isnull=True) | Q(end_datetime__gte=now))
    if shop_ids is not None:
        discounts = discounts.filter(shop_id__in=list(shop_ids))
    return discounts


def products_of_discount(shop_id, product_id, category_id, exclude_category, supplier_id=None):
    """A ShopProduct queryset of the shop's products a discount with these links applies to (a discount
    limited to a supplier: those the supplier supplies, the only ones whose page it may price)."""
    shop_products = ShopProduct.objects.filter(shop_id=shop_id)
    if supplier_id:
        shop_products = shop_products.filter(suppliers=supplier_id)
    if product_id:
        shop_products = shop_products.filter(product_id=product_id)
    if category_id:
        if exclude_category:
            shop_products = shop_products.exclude(categories=category_id)
        else:
            shop_products = shop_products.filter(categories=category_id)
    return shop_products


class VisitorPrices:
    """Prices of a shop's products as an anonymous visitor sees them, in a few queries for many products."""

    def __init__(self, shop):
        self.shop = shop
        self.context = PricingContext(shop=shop, customer=AnonymousContact())
        self._tax_factors = {}
        self._tax_classes = {}
        #: {supplier id: the pricing context of an anonymous visitor on a page priced with that supplier}
        self._contexts = {None: self.context}
        #: {product id: the id of the supplier its own shop product's strategy gives, or None}, as read so far
        self._suppliers = {}
        #: {variation child id: its parent's id}, of the products priced so far
        self._parents = {}

    @cached_property
    def include_taxes(self):
        """Whether the storefront shows an anonymous visitor prices including tax (True), excluding it (False),
        or as the shop enters them (None): ``AnonymousContact.get_price_display_options(shop=shop)``, read
        without creating the options row Shuup creates on a visitor's first request."""
        display = get_price_display_for_group_and_shop(self.context.customer.default_group, self.shop,
                                                       create_if_missing=False)
        return display.show_prices_including_taxes if display is not None else None

    @cached_property
    def converts(self):
        """Whether prices are shown in another taxness than the shop enters them in, and Shuup converts them."""
        return (self.include_taxes is not None and self.include_taxes != bool(self.shop.prices_include_tax)
                and should_calculate_taxes_automatically())

    def prices(self, products, shop_products):
        """{product id: the Decimal price shown} of ``products`` (loaded with their ``tax_class_id``);
        ``shop_products``: {product id: its shop product in the shop, with ``default_price_value``}."""
        products = list(products)
        if not products:
            return {}
        self._parents.update({product.pk: product.variation_parent_id for product in products
                              if product.variation_parent_id})
        ruled = self._ruled([product.pk for product in products], shop_products)
        priced = [product.pk for product in products if ruled is None or product.pk in ruled]
        suppliers = self.page_suppliers(priced, shop_products)
        prices = {}
        for product in products:
            if ruled is None or product.pk in ruled:
                price = get_price_info(self._context(suppliers.get(product.pk)), product).price
            else:  # as customer group pricing prices it: the shop product's price, else 0
                shop_product = shop_products.get(product.pk)
                price = self.shop.create_price((shop_product.default_price_value if shop_product else None) or 0)
            prices[product.pk] = self.shown(product, price)
        return prices

    def suppliers(self, product_ids, shop_products):
        """{product id: the id of the supplier the product page prices it with (None: no supplier)}, of
        ``product_ids``, each from its own shop product in ``shop_products`` (a variation child's page is its
        parent's: see :meth:`page_suppliers`): the strategy's ``get_supplier`` for a visitor, read for all of
        them in two queries with Shuup's default strategy."""
        missing = [pk for pk in set(product_ids) if pk not in self._suppliers]
        by_shop_product = {shop_products[pk].pk: pk for pk in missing if shop_products.get(pk) is not None}
        self._suppliers.update(dict.fromkeys(missing))
        if not by_shop_product:
            return {pk: self._suppliers[pk] for pk in product_ids}
        strategy = getattr(settings, "SHUUP_SHOP_PRODUCT_SUPPLIERS_STRATEGY", FIRST_SUPPLIER_STRATEGY)
        if strategy == FIRST_SUPPLIER_STRATEGY:
            # shop_product.suppliers.enabled(shop=shop).first(): the lowest id (Supplier has no ordering).
            links = ShopProduct.suppliers.through.objects.filter(
                shopproduct_id__in=list(by_shop_product),
                supplier_id__in=Subquery(Supplier.objects.enabled(shop=self.shop.pk).values("pk")))
            for shop_product_id, supplier_id in links.values("shopproduct_id").annotate(
                    first=Min("supplier_id")).values_list("shopproduct_id", "first"):
                self._suppliers[by_shop_product[shop_product_id]] = supplier_id
        else:
            for product_id in by_shop_product.values():
                supplier = shop_products[product_id].get_supplier(customer=self.context.customer)
                self._suppliers[product_id] = supplier.pk if supplier is not None else None
        return {pk: self._suppliers[pk] for pk in product_ids}

    def _page_of(self, product_id, shop_products):
        """The product whose page offers ``product_id``: a variation child's parent (when the shop sells it),
        else the product itself."""
        parent_id = self._parents.get(product_id)
        return parent_id if parent_id is not None and shop_products.get(parent_id) is not None else product_id

    def page_suppliers(self, product_ids, shop_products):
        """{product id: the id of the supplier the storefront prices it with (None: no supplier)}. A variation
        child is priced on its parent's page, with the parent page's supplier: Shuup's page keeps it in a hidden
        field (``product-supplier-<parent>``) that its price update (``/xtheme/product_price``) and the basket
        send with the selected variation, and lists only the variations that supplier supplies. Without one
        (the parent's shop product has no supplier), the variation's own shop product's supplier."""
        pages = {pk: self._page_of(pk, shop_products) for pk in set(product_ids)}
        own = self.suppliers(set(pages) | set(pages.values()), shop_products)
        return {pk: own[pages[pk]] if own[pages[pk]] is not None else own[pk] for pk in pages}

    def unsupplied_children(self, children, shop_products):
        """The ids of these variation children (loaded with their ``variation_parent_id``) that their parent
        page's supplier does not supply (enabled for the shop): the page does not offer them ("Combination not
        available")."""
        self._parents.update({child.pk: child.variation_parent_id for child in children if child.variation_parent_id})
        pages = {child.pk: self._page_of(child.pk, shop_products) for child in children}
        page_suppliers = self.suppliers(set(pages.values()), shop_products)
        expected = {shop_products[pk].pk: page_suppliers[page] for pk, page in pages.items()
                    if page != pk and page_suppliers[page] is not None and shop_products.get(pk) is not None}
        if not expected:
            return set()
        supplied = set(ShopProduct.suppliers.through.objects.filter(
            shopproduct_id__in=list(expected), supplier_id__in=set(expected.values())).filter(
            supplier_id__in=Subquery(Supplier.objects.enabled(shop=self.shop.pk).values("pk"))).values_list(
            "shopproduct_id", "supplier_id"))
        by_shop_product = {shop_products[pk].pk: pk for pk in pages if shop_products.get(pk) is not None}
        return {by_shop_product[sp_id] for sp_id, supplier_id in expected.items()
                if (sp_id, supplier_id) not in supplied}

    def _context(self, supplier_id):
        if supplier_id not in self._contexts:
            self._contexts[supplier_id] = PricingContext(shop=self.shop, customer=self.context.customer,
                                                         supplier=Supplier.objects.filter(pk=supplier_id).first())
        return self._contexts[supplier_id]

    def shown(self, product, price):
        """``price`` (a Shuup price) as the visitor sees it: converted to the taxness the display options ask
        for, as ``shuup.core.utils.prices.convert_taxness`` does."""
        if not self.converts or price.includes_tax == self.include_taxes:
            return Decimal(price.value)
        taxful, taxless = self._taxed(product.tax_class_id, price)
        return taxful if self.include_taxes else taxless

    def _taxed(self, tax_class_id, price):
        """(taxful, taxless) Decimal values of ``price``, as the tax module taxes it. Taxes that are all rates
        scale with the price, so the module is asked once per tax class and taxness (a query each with Shuup's
        default module), not once per variant; a fixed-amount tax asks it for every price."""
        key = (tax_class_id, price.includes_tax)
        if key not in self._tax_factors:
            taxed = self._module_taxed(tax_class_id, type(price)(1, price.currency))
            rates_only = all(getattr(line.tax, "rate", None) is not None for line in taxed.taxes)
            self._tax_factors[key] = (taxed.taxful.value / taxed.taxless.value) if rates_only else None
        factor = self._tax_factors[key]
        if factor is None:
            taxed = self._module_taxed(tax_class_id, price)
            return Decimal(taxed.taxful.value), Decimal(taxed.taxless.value)
        value = Decimal(price.value)
        return (value, value / factor) if price.includes_tax else (value * factor, value)

    def _module_taxed(self, tax_class_id, price):
        module = get_tax_module()
        if tax_class_id not in self._tax_classes:
            self._tax_classes[tax_class_id] = TaxClass.objects.filter(pk=tax_class_id).first()
        context = module.get_context_from_data(customer=self.context.customer)
        return module.get_taxed_price(context, price, self._tax_classes[tax_class_id])

    def _ruled(self, product_ids, shop_products):
        """The ids among ``product_ids`` whose price a rule for anonymous visitors may change (a group price or
        discount of the anonymous group, a discount for everyone, one limited to the supplier the product's
        page prices with); None when the shop prices with a module
        whose rules are not known here: then every product goes through Shuup's pipeline."""
        pricing = getattr(settings, "SHUUP_PRICING_MODULE", None)
        discount_modules = list(getattr(settings, "SHUUP_DISCOUNT_MODULES", ()))
        if pricing not in KNOWN_PRICING_MODULES or set(discount_modules) - set(KNOWN_DISCOUNT_MODULES):
            return None
        ids = set(product_ids)
        if not ids:
            return set()
        from shuup.customer_group_pricing.models import CgpDiscount, CgpPrice

        group_id = self.context.customer.default_group.pk
        ruled = set(CgpPrice.objects.filter(shop=self.shop, product_id__in=ids, group_id=group_id,
                                            price_value__gt=0).values_list("product_id", flat=True))
        if "customer_group_discount" in discount_modules:
            ruled.update(CgpDiscount.objects.filter(
                shop=self.shop, product_id__in=ids, group_id=group_id, discount_amount_value__gt=0).values_list(
                "product_id", flat=True))
        if "product_discounts" in discount_modules:
            links = discounts_for_visitors([self.shop.pk], now=timezone.now(), group_id=group_id).values_list(
                "product_id", "category_id", "exclude_selected_category", "supplier_id").distinct()
            for product_id, category_id, exclude, supplier_id in links:
                if product_id:
                    concerned = {product_id} & ids
                elif category_id and not exclude:
                    in_category = ShopProduct.objects.filter(shop=self.shop, product_id__in=ids, categories=category_id)
                    concerned = set(in_category.values_list("product_id", flat=True))
                else:
                    concerned = ids
                if supplier_id and concerned:
                    suppliers = self.page_suppliers(concerned, shop_products)
                    concerned = {pk for pk in concerned if suppliers[pk] == supplier_id}
                ruled.update(concerned)
        return ruled & ids


def _last_weekly(now_local, weekday, at):
    """The latest moment at or before ``now_local`` that is ``at`` o'clock on ``weekday`` (Monday 0), in the
    time zone of ``now_local``, as Shuup's happy hours compare it (``timezone.localtime``)."""
    moment = (now_local - timedelta(days=(now_local.weekday() - weekday) % 7)).replace(
        hour=at.hour, minute=at.minute, second=at.second, microsecond=at.microsecond)
    return moment - timedelta(days=7) if moment > now_local else moment


def discount_date_changes(now, since):
    """[(shop id, the shop products it touches, when)] for each discount for visitors whose price changed
    after ``since()`` (called only when some discount has a date or a happy hour; None: nothing to look at)
    and at or before ``now`` with no save: its start or end date passed, one of its happy hours began or
    ended."""
    if not apps.is_installed("shuup.discounts"):
        return []
    from shuup.discounts.models import TimeRange

    dated = discounts_for_visitors().filter(
        Q(start_datetime__lte=now) | Q(end_datetime__lte=now) | Q(happy_hours__time_ranges__isnull=False))
    if not dated.exists():
        return []
    since = since()
    if since is None:
        return []
    dated = dated.filter(
        Q(start_datetime__gt=since, start_datetime__lte=now) | Q(end_datetime__gt=since, end_datetime__lte=now)
        | Q(happy_hours__time_ranges__isnull=False)).distinct()
    discounts = list(dated.values_list("pk", "shop_id", "product_id", "category_id", "exclude_selected_category",
                                       "supplier_id", "start_datetime", "end_datetime"))
    if not discounts:
        return []
    now_local = timezone.localtime(now)
    hours = defaultdict(list)
    for discount_id, weekday, from_hour, to_hour in TimeRange.objects.filter(
            happy_hour__discounts__in=[row[0] for row in discounts]).values_list(
            "happy_hour__discounts", "weekday", "from_hour", "to_hour"):
        hours[discount_id] += [_last_weekly(now_local, weekday, from_hour), _last_weekly(now_local, weekday, to_hour)]
    changes = []
    for discount_id, shop_id, product_id, category_id, exclude, supplier_id, start, end in discounts:
        moments = [moment for moment in [start, end] + hours[discount_id]
                   if moment is not None and since < moment <= now]
        if moments:
            changes.append((shop_id, products_of_discount(shop_id, product_id, category_id, exclude, supplier_id),
                            max(moments)))
    return changes
