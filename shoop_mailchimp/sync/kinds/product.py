"""Where a Shuup product becomes a Mailchimp eCommerce product: the whole catalogue, not only what was
ordered, because Mailchimp's product blocks, recommendations and revenue reports draw on it.

A row is a product of a shop as the storefront shows it: a variation parent with its children as
variants, or a simple product as its own single variant (the id an order line names as both). A
product the shop no longer shows (hidden, soft-deleted, deleted) is deleted in Mailchimp, unless an
order of the shop names it: Mailchimp refuses an order, and any later update of it (a cancellation, a
shipment), whose lines name a product the store lacks, so such a product stays with its variants
hidden and out of stock.
"""
import hashlib
import json
import logging
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Substr
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, ugettext_lazy
from shuup.core.models import (
    Category,
    OrderLine,
    Product,
    ProductMedia,
    ProductMediaKind,
    ProductVisibility,
    ShopProduct,
    ShopProductVisibility,
)

from shoop_mailchimp.mailchimp import batches, errors
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.mailchimp.resources import product_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import LogKind, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.shops import shop_storefront_url
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.batch_phase import BatchPhase, operation_failed, result_outcome
from shoop_mailchimp.sync.kinds.declarations import AS_NEW, IN_IMPORT, RESEND, AdminItem
from shoop_mailchimp.sync.kinds.fields import currency_places, money, plain_text
from shoop_mailchimp.sync.kinds.prices import VisitorPrices
from shoop_mailchimp.sync.outcome import Outcome, Result

KIND = SyncKind.PRODUCT
#: How the admin names the kind and a failed item of it.
ADMIN = AdminItem(
    title=ugettext_lazy("Products"),
    model=Product,
    label=lambda product: product.safe_translation_getter("name", any_language=True),
    advice=ugettext_lazy("Check the product's name, price and images, then press %(button)s."),
)

#: "Sync existing" sends them in the store's import; a store created again gets them as never sent; their URLs
#: name the storefront (a new domain sends them again).
SYNC_EXISTING = IN_IMPORT
FOR_NEW_STORE = AS_NEW
ON_DOMAIN_CHANGE = RESEND
#: Many due at once (a stock count, a price list import) go through batches (:mod:`shoop_mailchimp.sync.bursts`).
IN_BURSTS = True
logger = logging.getLogger(__name__)

#: The stock sent for a product whose stock the shop does not count: Mailchimp takes 0 for sold out and
#: would leave it out of recommendations.
UNTRACKED_STOCK = 1000000
#: Images sent per product (Mailchimp's product blocks show the first).
MAX_IMAGES = 10
#: Characters of plain text sent as a product's description. Mailchimp documents no limit and its product
#: blocks show a few lines: this keeps every word a campaign can show while a batch of 500 products stays a
#: few megabytes, whatever the shop's descriptions hold (inline pictures made some 100 KB each).
MAX_DESCRIPTION_LENGTH = 4000
#: Characters of a description's HTML read from the database, before its markup is stripped.
DESCRIPTION_SOURCE_LENGTH = 4 * MAX_DESCRIPTION_LENGTH
#: How a product's price is rounded to the currency's places: as the storefront shows it. Shuup formats money
#: with Babel (``shuup.utils.i18n.format_money``: ``babel.numbers.format_currency``), which rounds half to even:
#: 10.125 is shown €10.12. Orders and carts keep half up (what was charged).
PRICE_ROUNDING = ROUND_HALF_EVEN
VISIBLE, HIDDEN = "visible", "hidden"
PRODUCT_FIELDS = ("id", "sku", "deleted", "variation_parent_id", "manufacturer_id", "primary_image_id", "created_on",
                  "tax_class_id")
SHOP_PRODUCT_FIELDS = ("id", "product_id", "shop_id", "visibility", "visibility_limit", "available_until",
                       "purchasable", "default_price_value", "primary_category_id", "shop_primary_image_id",
                       "backorder_maximum")


def log_target(object_id):
    """Product entries name no contact or order: the message names the product."""
    return {}


def unsent_ids(shop_id):
    """The catalogue as the storefront shows it (variation parents and products without variants) that the sync
    has never seen (no sync-state row): what a bulk sync sends."""
    known = SyncState.objects.filter(shop_id=shop_id, kind=KIND).values("object_id")
    return ShopProduct.objects.filter(shop_id=shop_id, product__variation_parent__isnull=True, product__deleted=False
                                      ).exclude(visibility=ShopProductVisibility.NOT_VISIBLE).exclude(
        product_id__in=known).values_list("product_id", flat=True)


def catalogue_id(product):
    """The row's object id for a product: a variation child is a variant of its parent's row."""
    return product.variation_parent_id or product.pk


def product_id_for(product_pk):
    return str(product_pk)


def variant_id_for(product):
    return str(product.pk)


def already_exists(error):
    return errors.already_exists(error)


def _title(name, product):
    title = (name or product.sku or "").strip()
    return title[:255] or "Product %s" % product.pk


def _description(markup):
    return plain_text(markup, MAX_DESCRIPTION_LENGTH, clipped_at=DESCRIPTION_SOURCE_LENGTH)


def translated(model, ids, fields, clip=None):
    """{object id: {field: value}} of a translated model's objects in one query: the active language's
    text, else the default language's, else any. (Prefetching parler's translations took most of a bulk
    sync's planning.) ``clip``: read at most this many characters of each field (a description can be
    megabytes of HTML, inline pictures included: a batch of products would hold them all)."""
    ids = set(ids)
    if not ids:
        return {}
    preferred = [get_language(), getattr(settings, "PARLER_DEFAULT_LANGUAGE_CODE", None), settings.LANGUAGE_CODE]
    rank = {code: position for position, code in reversed(list(enumerate(code for code in preferred if code)))}
    texts, ranks = {}, {}
    translations = model._meta.get_field("translations").related_model  # parler's translation model
    rows = translations.objects.filter(master_id__in=ids).order_by("language_code")
    columns = [Substr(field, 1, clip) if clip else field for field in fields]
    for row in rows.values_list("master_id", "language_code", *columns):
        master_id, language, values = row[0], row[1], row[2:]
        position = rank.get(language, len(rank))
        if master_id not in ranks or position < ranks[master_id]:
            ranks[master_id] = position
            texts[master_id] = dict(zip(fields, values))
    return {pk: texts.get(pk, {}) for pk in ids}


class Catalogue:
    """The products of some rows (or of an order's lines) with what their payloads need, in a few queries:
    their variation children, shop products, images, stock, categories and texts."""

    def __init__(self, shop, product_ids, places=None):
        """``places``: the decimal places of the shop's currency, when known (else read from Shuup)."""
        self.shop = shop
        ids = set(product_ids)
        # Only the columns a payload reads: a product has dozens, and converting them was most of the loading.
        products = Product.objects.only(*PRODUCT_FIELDS)
        self.products = products.filter(pk__in=ids).select_related("manufacturer").only(
            *PRODUCT_FIELDS, "manufacturer__name").in_bulk()
        self.children = defaultdict(list)
        for child in products.filter(variation_parent_id__in=ids).order_by("pk"):
            self.children[child.variation_parent_id].append(child)
        every_id = ids | {child.pk for children in self.children.values() for child in children}
        self.shop_products = {
            shop_product.product_id: shop_product for shop_product in ShopProduct.objects.filter(
                shop_id=shop.pk, product_id__in=every_id).only(*SHOP_PRODUCT_FIELDS)
        }
        #: {product id: {"name", "slug"}}, of the products and their variation children
        self.texts = translated(Product, every_id, ("name", "slug"))
        #: {product id: its description as sent}, of the products only (a variant has none): the shop
        #: product's, else the product's, read clipped and kept as the plain text sent, not as HTML.
        own = {sp.pk: sp.product_id for sp in self.shop_products.values() if sp.product_id in ids}
        self.descriptions = {
            product_id: _description(text.get("description"))
            for product_id, text in translated(Product, ids, ("description",), clip=DESCRIPTION_SOURCE_LENGTH).items()}
        for pk, text in translated(ShopProduct, own, ("description",), clip=DESCRIPTION_SOURCE_LENGTH).items():
            description = _description(text.get("description"))
            if description:
                self.descriptions[own[pk]] = description
        categories = {sp.primary_category_id for sp in self.shop_products.values() if sp.primary_category_id}
        self.category_names = {pk: text.get("name") for pk, text in translated(Category, categories, ("name",)).items()}
        self.images = defaultdict(list)
        media = ProductMedia.objects.filter(product_id__in=every_id, kind=ProductMediaKind.IMAGE, enabled=True,
                                            public=True, shops=shop.pk).select_related("file")
        for item in media.order_by("ordering", "pk"):
            self.images[item.product_id].append(item)
        #: {product id: the suppliers counting its stock}
        self.counting = defaultdict(set)
        self.stock = self._stock(every_id)
        #: {product id: its price as an anonymous visitor of the shop sees it} (a Decimal, not rounded), of the
        #: products and their variation children.
        self.visitor_prices = VisitorPrices(shop)
        self.prices = self.visitor_prices.prices(
            list(self.products.values()) + [child for children in self.children.values() for child in children],
            self.shop_products)
        #: {product id: the supplier its page sells it with (None: no enabled supplier, nobody can buy it)}.
        self.page_suppliers = self.visitor_prices.page_suppliers(every_id, self.shop_products)
        #: Variation children their parent page's supplier does not supply: the page does not offer them.
        self.unsupplied = self.visitor_prices.unsupplied_children(
            [child for children in self.children.values() for child in children], self.shop_products)
        #: The storefront's address, as orders, carts and promos link to it (the shop's domain, with or
        #: without its scheme, else STOREFRONT_BASE_URL...); "" when none is set.
        self.base_url = shop_storefront_url(shop, "")
        #: The decimal places of the shop's currency, as orders round to.
        self.places = currency_places(shop.currency) if places is None else places
        #: {product id: [(log action, message)]}: what a payload left out or changed, for the shop's log.
        self.warnings = defaultdict(list)

    def text(self, product, field):
        """A product's translated text, from the texts loaded (an unsaved product: its own)."""
        if product.pk in self.texts:
            return self.texts[product.pk].get(field) or ""
        return product.safe_translation_getter(field, any_language=True) or ""

    def description(self, product):
        """The shop product's description, else the product's, as plain text of at most
        ``MAX_DESCRIPTION_LENGTH`` characters (an unsaved product: its own)."""
        if product.pk in self.descriptions:
            return self.descriptions[product.pk]
        return _description(product.safe_translation_getter("description", any_language=True))

    def _stock(self, product_ids):
        """{product id: {supplier id: the count it can sell}}, for products whose stock is counted: as
        Shuup's simple supplier, only where both the supplier and the product's stock count manage stock (an
        order writes a count, negative, also for a supplier that does not: the shop keeps selling)."""
        if not apps.is_installed("shuup.simple_supplier"):
            return {}
        counts = apps.get_model("simple_supplier", "StockCount").objects.filter(
            product_id__in=product_ids, stock_managed=True, supplier__stock_managed=True, supplier__shops=self.shop.pk)
        stock = defaultdict(dict)
        for product_id, supplier_id, count in counts.values("product_id", "supplier_id").annotate(
                total=Sum("logical_count")).values_list("product_id", "supplier_id", "total"):
            self.counting[product_id].add(supplier_id)
            stock[product_id][supplier_id] = count
        return dict(stock)

    def ordered(self, product_id):
        """Whether an order of the shop names the product or one of its variants."""
        return OrderLine.objects.filter(Q(product_id=product_id) | Q(product__variation_parent_id=product_id),
                                        order__shop_id=self.shop.pk).exists()

    def shown(self, product):
        """Whether the storefront shows the product (a variation parent, or a product without variants) to every
        shopper: a campaign goes to every subscriber, so a product only logged-in customers or some groups may
        see is not recommended to them."""
        shop_product = self.shop_products.get(product.pk)
        return (not product.deleted and shop_product is not None
                and shop_product.visibility != ShopProductVisibility.NOT_VISIBLE
                and shop_product.visibility_limit == ProductVisibility.VISIBLE_TO_ALL
                and (shop_product.available_until is None or shop_product.available_until > timezone.now()))

    def offered(self, child):
        """Whether the storefront offers a variation child among its parent's variations: Shuup's product page
        offers only children whose own shop product is always visible (not those invisible, only listed or
        only searchable, nor a child the shop does not sell), and that the supplier of its page (the parent's
        shop product's) supplies."""
        shop_product = self.shop_products.get(child.pk)
        return (shop_product is not None and shop_product.visibility == ShopProductVisibility.ALWAYS_VISIBLE
                and shop_product.visibility_limit == ProductVisibility.VISIBLE_TO_ALL
                and child.pk not in self.unsupplied)

    def _absolute(self, url):
        """An absolute http(s) address for a picture's or page's URL, or "" for none: a path is joined to the
        shop's domain, a protocol-relative address takes https, any other scheme (ftp, data, javascript) is
        left out: Mailchimp puts the address in e-mails as it is."""
        url = (url or "").strip()
        if url.startswith("//"):
            url = "https:" + url
        parts = urlsplit(url)
        if parts.scheme:
            return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
        return urljoin(self.base_url + "/", url.lstrip("/")) if url and self.base_url else ""

    def _pictures(self, product):
        """[(media id, absolute URL)] of the product's pictures: the shop's primary picture first, then the
        product's, then the others in their order; those without an http(s) address left out."""
        shop_product = self.shop_products.get(product.pk)
        primary = {shop_product.shop_primary_image_id if shop_product is not None else None: 0,
                   product.primary_image_id: 1}
        primary.pop(None, None)
        items = self.images.get(product.pk, [])
        ordered = sorted(enumerate(items), key=lambda pair: (primary.get(pair[1].pk, 2), pair[0]))
        pictures = ((item.pk, self._absolute(item.url)) for _position, item in ordered)
        return [(pk, url) for pk, url in pictures if url]

    def _image_url(self, product):
        pictures = self._pictures(product)
        return pictures[0][1] if pictures else ""

    def _page_url(self, product):
        if not self.base_url:
            return ""
        slug = self.text(product, "slug") or "product"
        try:
            return self._absolute(reverse("shuup:product", kwargs={"pk": product.pk, "slug": slug}))
        except NoReverseMatch:  # a project without Shuup's storefront
            return ""

    def _stock_of(self, product, shop_product):
        """What the storefront can still sell of the product: untracked where nobody counts its stock, or where
        its page's supplier (the one it is sold with) does not, else that supplier's count (not other
        suppliers'); with Shuup's backorders, as Shuup sells: the count plus the backorder maximum, at least 0
        (backorders already taken have made the count negative, and are not offered again; a blank maximum:
        unlimited backorders, untracked)."""
        supplier_id = self.page_suppliers.get(product.pk)
        if product.pk not in self.stock or (supplier_id is not None and supplier_id not in self.counting[product.pk]):
            return UNTRACKED_STOCK
        backorders = shop_product.backorder_maximum if shop_product is not None else 0
        if backorders is None:
            return UNTRACKED_STOCK
        # The page's supplier's count (Shuup sells from it alone; another supplier's stock is not on offer); a
        # product without one (not sold, sent hidden) or not loaded with the catalogue: its suppliers' total.
        counts = self.stock[product.pk]
        count = counts[supplier_id] if supplier_id is not None else sum(counts.values())
        return max(0, int(count) + max(0, int(backorders)))

    @staticmethod
    def _backorders(shop_product):
        """Mailchimp's ``backorders`` of a variant: whether the shop sells it beyond its stock (Shuup's backorder
        maximum left blank, unlimited, or above 0)."""
        backorders = shop_product.backorder_maximum if shop_product is not None else 0
        return "true" if backorders is None or backorders > 0 else "false"

    def _price(self, product, payload_product):
        """The variant's price as an anonymous visitor of the shop sees it (Shuup's pricing and discounts, with
        or without tax as the storefront shows it: see :mod:`.prices`), rounded as the storefront shows it
        (``PRICE_ROUNDING``); None for a
        negative price, which is not sent (a campaign would show it): the variant goes hidden at 0, and the
        shop's log says why."""
        if product.pk in self.prices:
            price = Decimal(self.prices[product.pk])
        else:  # not loaded with the catalogue (an unsaved product): its shop product's price, as entered
            shop_product = self.shop_products.get(product.pk)
            price = Decimal((shop_product.default_price_value if shop_product else None) or 0)
        if price >= 0:
            return money(price, self.places, PRICE_ROUNDING)
        message = ("Product %s: variant %s has a negative price (%s %s); Mailchimp gets it hidden, at 0, until "
                   "the price is corrected" % (payload_product.pk, product.pk, price, self.shop.currency))
        logger.warning(message)
        self.warnings[payload_product.pk].append(("product.negative_price", message))
        return None

    def _variant(self, product, own_shop_product, fallback, url, visible, payload_product):
        shop_product = own_shop_product or fallback
        price = self._price(product, payload_product)
        # No enabled supplier (none left, or only disabled ones): Shuup's page says the product has no supplier,
        # and nobody can buy it.
        visible = (visible and not product.deleted and shop_product is not None and shop_product.purchasable
                   and price is not None and self.page_suppliers.get(product.pk, True) is not None)
        variant = {
            "id": variant_id_for(product),
            "title": _title(self.text(product, "name"), product),
            "price": price or 0.0,
            "inventory_quantity": max(0, self._stock_of(product, shop_product)) if visible else 0,
            "visibility": VISIBLE if visible else HIDDEN,
            "backorders": self._backorders(shop_product) if visible else "false",
        }
        if product.sku:
            variant["sku"] = product.sku[:255]
        if url:
            variant["url"] = url
        variant["image_url"] = self._image_url(product)  # also empty: a picture removed leaves the variant
        return variant

    def payload(self, product, visible=True):
        """The product as Mailchimp gets it; ``visible`` false: every variant hidden and out of stock."""
        self.warnings.pop(product.pk, None)
        shop_product = self.shop_products.get(product.pk)
        url = self._page_url(product)
        payload = {"id": product_id_for(product.pk), "title": _title(self.text(product, "name"), product)}
        slug = self.text(product, "slug")
        if slug:
            payload["handle"] = slug[:255]
        if url:
            payload["url"] = url
        # Always present, also empty: Mailchimp keeps a field an update leaves out, so an update must remove
        # a description, manufacturer, category or picture the shop removed.
        payload["description"] = self.description(product)
        payload["vendor"] = product.manufacturer.name[:255] if product.manufacturer_id else ""
        category_id = shop_product.primary_category_id if shop_product else None
        payload["type"] = (self.category_names.get(category_id) or "")[:255] if category_id else ""
        pictures = self._pictures(product)
        payload["image_url"] = pictures[0][1] if pictures else ""
        payload["images"] = [{"id": str(pk), "url": url} for pk, url in pictures[:MAX_IMAGES]]
        payload["published_at_foreign"] = product.created_on.isoformat()
        children = self.children.get(product.pk)
        if children:
            payload["variants"] = [self._variant(child, self.shop_products.get(child.pk), shop_product, url,
                                                 visible and self.offered(child), product) for child in children]
        else:
            payload["variants"] = [self._variant(product, shop_product, None, url, visible, product)]
        return payload


def fingerprint_of(payload):
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class Context:
    def __init__(self, configuration, rows):
        self.catalogue = Catalogue(configuration.shop, [row.object_id for row in rows])


def load(configuration, rows):
    return Context(configuration, rows)


def plan(configuration, row, context):
    catalogue = context.catalogue
    product = catalogue.products.get(row.object_id)
    if product is not None and not product.variation_parent_id and catalogue.shown(product):
        product_plan = ProductPlan(configuration, row, catalogue.payload(product), ProductPlan.SEND,
                                   catalogue.warnings.get(product.pk))
    elif not row.last_synced_at:
        return Outcome.removed()  # never shown (or a variant: its parent's row sends it), never sent
    elif product is not None and catalogue.ordered(product.pk):
        product_plan = ProductPlan(configuration, row, catalogue.payload(product, visible=False), ProductPlan.HIDE,
                                   catalogue.warnings.get(product.pk))
    else:
        product_plan = ProductPlan(configuration, row, {"id": product_id_for(row.object_id)}, ProductPlan.DELETE)
    if product_plan.action != ProductPlan.DELETE and product_plan.fingerprint == row.fingerprint:
        return Outcome.unchanged()
    return product_plan


def stale_variants(sent_ids, answer):
    """Variants Mailchimp has (``answer``: its product after the write) that the product no longer has (it
    was sent as its own variant before it got variations, a variation moved to another product or hidden
    from it), as hidden and out of stock: hidden, not deleted, as an order sent before may name them. Both
    paths send them after the product's write: one by one, and in a batch's second phase."""
    sent = set(sent_ids)
    return [{"id": variant["id"], "visibility": HIDDEN, "inventory_quantity": 0}
            for variant in (answer or {}).get("variants") or ()
            if variant.get("id") not in sent and variant.get("visibility") != HIDDEN]


class ProductPlan:
    """What one product's delivery sends, computed without touching the network."""

    SEND, HIDE, DELETE = "send", "hide", "delete"
    #: A batch carries it as one operation (a create, an update or a delete).
    batchable = True

    def __init__(self, configuration, row, payload, action, warnings=None):
        self.configuration = configuration
        self.row = row
        self.payload = payload
        self.action = action
        self.fingerprint = fingerprint_of(payload)
        #: (log action, message) pairs the shop's log gets as warnings, whichever path sends the plan.
        self.warnings = list(warnings or ())

    @property
    def path(self):
        return product_path(self.configuration.store_id, self.payload["id"])

    @property
    def update(self):
        return {key: value for key, value in self.payload.items() if key != "id"}

    def operation(self):
        """The one operation a batch carries: a product Mailchimp may have is updated, a new one created."""
        if self.action == self.DELETE:
            return Operation("DELETE", self.path)
        if self.row.last_synced_at:
            return Operation("PATCH", self.path, self.update)
        return Operation("POST", product_path(self.configuration.store_id), self.payload)

    def run(self, log):
        if self.action == self.DELETE:
            try:
                yield Operation("DELETE", self.path)
            except MailchimpNotFound:
                pass  # already gone
            log("product.delete", "Product %s deleted in Mailchimp (no longer in the shop)" % self.payload["id"])
            return Outcome.removed()
        answer = None
        if self.row.last_synced_at:
            try:
                answer = yield Operation("PATCH", self.path, self.update)
            except MailchimpNotFound:
                yield Operation("POST", product_path(self.configuration.store_id), self.payload)
        else:
            try:
                yield Operation("POST", product_path(self.configuration.store_id), self.payload)
            except MailchimpAPIError as error:
                if not already_exists(error):
                    raise
                answer = yield Operation("PATCH", self.path, self.update)
        stale = self.stale_variants(answer)
        if stale:
            yield Operation("PATCH", self.path, {"variants": stale})
        log(*self.log_entry())
        for action, message in self.warnings:
            log(action, message, kind=LogKind.WARNING)
        return Outcome.synced(fingerprint=self.fingerprint)

    def stale_variants(self, answer):
        return stale_variants([variant["id"] for variant in self.payload["variants"]], answer)

    def log_entry(self):
        variants = len(self.payload["variants"])
        if self.action == self.HIDE:
            return ("product.hide", "Product %s (%s) hidden in Mailchimp: no longer in the shop, kept for the "
                    "orders that name it" % (self.payload["id"], self.payload["title"]))
        return ("product.send", "Product %s (%s) sent with %d %s" % (
            self.payload["id"], self.payload["title"], variants, "variant" if variants == 1 else "variants"))


# In a batch (sync.bulk) --------------------------------------------------------------------------------
# Two phases, as the one-by-one path: each product's create, update or delete; then, for a product whose
# update left Mailchimp with visible variants it no longer has, those variants hidden. A refused create of a
# product Mailchimp has, or an update of one it lacks, goes back to the one-by-one path, which tries the other.


def _build(configuration, pairs, rows, sent):
    operations = []
    for row, product_plan in pairs:
        operations.append(batches.encode(product_plan.operation(), "p:%d:product" % row.id))
        sent[str(row.id)] = {"fingerprint": product_plan.fingerprint, "action": product_plan.action,
                             "variants": [variant["id"] for variant in product_plan.payload.get("variants", ())]}
    return operations


def _read(configuration, row, results, facts):
    result = results.get("product")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this product")
    if facts["action"] == ProductPlan.DELETE:
        if not operation_failed(result) or batches.operation_not_found(result):
            return Outcome.removed()
        return result_outcome(result, "product")
    if not operation_failed(result):
        stale = stale_variants(facts.get("variants", ()), batches.response_of(result))
        if stale:
            facts["stale"] = stale
            return None  # its stale variants are hidden in the next phase
        return Outcome.synced(fingerprint=facts["fingerprint"])
    outcome = result_outcome(result, "product")
    if batches.operation_not_found(result) or already_exists(batches.error_of(result)):
        outcome.result = Result.RETRY
    return outcome


def _build_stale(configuration, pairs, rows, sent):
    operations = []
    for row in rows:
        stale = (sent.get(str(row.id)) or {}).get("stale")
        if stale:
            path = product_path(configuration.store_id, product_id_for(row.object_id))
            operations.append(batches.encode(Operation("PATCH", path, {"variants": stale}), "p:%d:stale" % row.id))
    return operations


def _read_stale(configuration, row, results, facts):
    result = results.get("stale")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this product's variants")
    if operation_failed(result):
        outcome = result_outcome(result, "stale variants")
        if batches.operation_not_found(result):
            outcome.result = Result.RETRY
        return outcome
    return Outcome.synced(fingerprint=facts["fingerprint"])


BATCH_PHASES = (BatchPhase(_build, _read, plans=True), BatchPhase(_build_stale, _read_stale))


#: When a round last looked for discounts whose dates or happy hours passed (see
#: :func:`requeue_past_discount_dates`).
DISCOUNT_DATES_CHECKED_KEY = "shoop_mailchimp:discount_dates_checked"


def requeue_past_availability(now=None):
    """Queue the product rows whose shop product's *available until* passed since their last send: the
    storefront stopped showing them with no save to say so (the plan then deletes or hides them). Returns how
    many were queued."""
    now = now or timezone.now()
    ended = ShopProduct.objects.filter(shop_id=OuterRef("shop_id"), product_id=OuterRef("object_id"),
                                       available_until__gt=OuterRef("built"), available_until__lte=now)
    # Compared with the claim that built the last payload, not the close (a batch's comes minutes later).
    ids = SyncState.objects.filter(kind=KIND, status=SyncStatus.SYNCED).annotate(
        built=Coalesce("claimed_at", "last_synced_at")).annotate(ended=Exists(ended)).filter(
        ended=True).values_list("id", flat=True)
    return state.requeue_ids(ids, (SyncStatus.SYNCED,), now)


def _parents(shop_products):
    """The ids of the products whose rows Mailchimp has of these shop products: a variation child's is its
    parent's."""
    return shop_products.annotate(parent=Coalesce("product__variation_parent_id", "product_id"))


def record_catalogue_rows(shop_id, shop_products):
    """Queue, in the caller's transaction, the shop's product rows Mailchimp has of these shop products (a
    queryset: those a discount touches): a variation child's is its parent's. Returns whether any row is due."""
    return state.record(shop_id, KIND, set(_parents(shop_products).values_list("parent", flat=True)),
                        only_known=True)


def requeue_priced_anew(shop_id, shop_products, changed_at, now=None):
    """Queue the shop's product rows of these shop products (a queryset: a discount's; a variation child's row
    is its parent's) whose last payload was built before ``changed_at``: their price for visitors changed then
    with no save to say so (a discount's start or end date, a happy hour); see ``state.requeue_built_before``.
    Returns how many were queued."""
    return state.requeue_built_before(shop_id, KIND, Subquery(_parents(shop_products).values("parent")),
                                      changed_at, now or timezone.now())


def requeue_past_discount_dates(discount_date_changes, now=None):
    """Queue the product rows whose price for visitors changed since their last send with no save: a
    ``shuup.discounts`` discount for visitors started or ended (its dates), or one of its happy hours began or
    ended. Each round looks at what passed since the previous round's look (kept in the cache,
    ``DISCOUNT_DATES_CHECKED_KEY``; without it, since the oldest row's last send): one query when nothing
    did, then one per discount whose moment passed. ``discount_date_changes(now, since)`` says which
    (:func:`shoop_mailchimp.sync.kinds.prices.discount_date_changes`). Returns how many rows were queued."""
    now = now or timezone.now()

    def since():
        checked = cache.get(DISCOUNT_DATES_CHECKED_KEY)
        if checked is not None:
            return checked
        return SyncState.objects.filter(kind=KIND, status=SyncStatus.SYNCED).aggregate(
            oldest=Min("next_attempt_at"))["oldest"]

    queued = sum(requeue_priced_anew(shop_id, shop_products, changed_at, now)
                 for shop_id, shop_products, changed_at in discount_date_changes(now, since))
    cache.set(DISCOUNT_DATES_CHECKED_KEY, now, None)
    return queued
