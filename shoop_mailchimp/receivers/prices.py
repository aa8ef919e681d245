"""Signal receivers for what changes the price an anonymous visitor sees (see
:mod:`shoop_mailchimp.sync.kinds.prices`) without a product or shop product save: a ``shuup.discounts``
discount, its happy hours and their time ranges, a product added to a category or removed from it (a
discount for the category), a customer group price or discount of the anonymous group,
the anonymous group's price display options, a tax or tax rule (where the storefront shows visitors prices in
another taxness than the shop enters them), the shop's currency or its "prices include tax". They queue the
products Mailchimp has (:func:`~shoop_mailchimp.sync.kinds.product.record_catalogue_rows`), in the caller's
transaction; a product never sent gets its price when it is. A discount's start, end or happy hour passing
is no save: each round looks for those (:func:`~shoop_mailchimp.sync.kinds.product.requeue_past_discount_dates`).
"""
from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from shuup.core.models import AnonymousContact, ContactGroupPriceDisplay, Shop, ShopProduct, Tax

from shoop_mailchimp.models import JobKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.receivers.recording import recall, remember
from shoop_mailchimp.shops import recording_shop_ids
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.jobs import request_job
from shoop_mailchimp.sync.kinds.prices import VisitorPrices, anonymous_group_id, products_of_discount
from shoop_mailchimp.sync.kinds.product import record_catalogue_rows

DISCOUNT_SAVING_UID = "shoop_mailchimp.discount_saving"
DISCOUNT_SAVED_UID = "shoop_mailchimp.discount_saved"
DISCOUNT_DELETING_UID = "shoop_mailchimp.discount_deleting"
DISCOUNT_HAPPY_HOURS_UID = "shoop_mailchimp.discount_happy_hours_changed"
HAPPY_HOUR_DELETING_UID = "shoop_mailchimp.happy_hour_deleting"
TIME_RANGE_SAVED_UID = "shoop_mailchimp.time_range_saved"
TIME_RANGE_DELETING_UID = "shoop_mailchimp.time_range_deleting"
GROUP_PRICE_SAVED_UID = "shoop_mailchimp.group_price_saved.%s"
GROUP_PRICE_DELETED_UID = "shoop_mailchimp.group_price_deleted.%s"
PRICE_DISPLAY_SAVED_UID = "shoop_mailchimp.price_display_saved"
SHOP_PRODUCT_CATEGORIES_UID = "shoop_mailchimp.shop_product_categories_changed"
TAX_SAVED_UID = "shoop_mailchimp.tax_saved"
SHOP_PRODUCT_SUPPLIERS_UID = "shoop_mailchimp.shop_product_suppliers_changed"
TAX_RULE_SAVED_UID = "shoop_mailchimp.tax_rule_saved"
TAX_RULE_DELETING_UID = "shoop_mailchimp.tax_rule_deleting"
TAX_RULE_CLASSES_UID = "shoop_mailchimp.tax_rule_classes_changed"

#: The shop's fields its products' prices depend on (:mod:`.shops` reads them before a save).
SHOP_PRICE_FIELDS = ("currency", "prices_include_tax")

#: What a discount being saved holds in the database (its links, and whether visitors get it): see
#: :func:`discount_saving`.
STORED_DISCOUNT = "_shoop_mailchimp_stored_discount"
DISCOUNT_FIELDS = ("shop_id", "product_id", "category_id", "exclude_selected_category", "active", "contact_id",
                   "contact_group_id", "supplier_id")


def _for_visitors(values):
    """Whether a discount with these field values can change what an anonymous visitor pays (as
    :func:`~shoop_mailchimp.sync.kinds.prices.discounts_for_visitors` selects them)."""
    return bool(values["active"] and values["contact_id"] is None
                and values["contact_group_id"] in (None, anonymous_group_id()))


def _values(discount):
    return {field: getattr(discount, field) for field in DISCOUNT_FIELDS}


def _record_discounts(links):
    """Queue the products these discounts (their field values) touch, in the recording shops."""
    shop_ids = set(recording_shop_ids())
    due = set()
    for values in links:
        if values["shop_id"] in shop_ids and _for_visitors(values):
            shop_products = products_of_discount(values["shop_id"], values["product_id"], values["category_id"],
                                                  values["exclude_selected_category"], values["supplier_id"])
            if record_catalogue_rows(values["shop_id"], shop_products):
                due.add(values["shop_id"])
    for shop_id in due:
        schedule_delivery(shop_id)


def discount_saving(sender, instance, raw=False, **kwargs):
    """Remember the discount as the database holds it: a discount moved to another product or category, or
    ended, gives the products it touched their price back."""
    stored = None
    if not raw and instance.pk and recording_shop_ids():
        stored = sender.objects.filter(pk=instance.pk).values(*DISCOUNT_FIELDS).first()
    remember(instance, STORED_DISCOUNT, stored)


def discount_saved(sender, instance, raw=False, **kwargs):
    stored = recall(instance, STORED_DISCOUNT)
    if raw or not recording_shop_ids():
        return
    _record_discounts([values for values in (stored, _values(instance)) if values])


def discount_deleting(sender, instance, **kwargs):
    """Before the delete: its category's products are still linked to the category then."""
    if recording_shop_ids():
        _record_discounts([_values(instance)])


def _record_happy_hours(happy_hour_ids):
    from shuup.discounts.models import Discount

    _record_discounts(Discount.objects.filter(happy_hours__in=list(happy_hour_ids)).distinct().values(
        *DISCOUNT_FIELDS))


def discount_happy_hours_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A happy hour given to a discount or taken from it, from either side."""
    if action not in ("post_add", "post_remove", "pre_clear") or not recording_shop_ids():
        return
    if reverse:  # instance is the happy hour, pk_set the discounts (none: all of its discounts, before a clear)
        from shuup.discounts.models import Discount

        discounts = Discount.objects.filter(pk__in=pk_set) if pk_set else Discount.objects.filter(
            happy_hours=instance.pk)
        _record_discounts(discounts.values(*DISCOUNT_FIELDS))
    else:
        _record_discounts([_values(instance)])


def happy_hour_deleting(sender, instance, **kwargs):
    if recording_shop_ids():
        _record_happy_hours([instance.pk])


def time_range_changed(sender, instance, raw=False, **kwargs):
    """A happy hour's time range added, changed or removed (before the delete, while it names its discounts)."""
    if not raw and instance.happy_hour_id and recording_shop_ids():
        _record_happy_hours([instance.happy_hour_id])


def _record_shop_products_of_m2m_change(field, instance, action, reverse, pk_set):
    """Queue the products Mailchimp has among those a many-to-many change of ShopProduct.``field`` touched,
    from either side (``reverse``: instance is the related object, pk_set the shop products; none: all of
    them, before a clear), one statement per shop."""
    if action not in ("post_add", "post_remove", "pre_clear") or not recording_shop_ids():
        return
    if action != "pre_clear" and not pk_set:
        return
    if reverse:
        shop_products = (ShopProduct.objects.filter(pk__in=pk_set) if pk_set
                         else ShopProduct.objects.filter(**{field: instance.pk}))
    else:
        shop_products = ShopProduct.objects.filter(pk=instance.pk)
    for shop_id in set(shop_products.values_list("shop_id", flat=True)) & set(recording_shop_ids()):
        if record_catalogue_rows(shop_id, shop_products.filter(shop_id=shop_id)):
            schedule_delivery(shop_id)


def shop_product_categories_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A product added to a category or removed from it, from either side, without a shop product save (the
    category admin's *Additional Category* and *Remove Products*): a discount for the category gives its
    products the sale price, or takes it away."""
    _record_shop_products_of_m2m_change("categories", instance, action, reverse, pk_set)


def shop_product_suppliers_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Suppliers given to a shop product or taken from it, from either side, without a shop product save: the
    supplier its page prices with (a discount limited to a supplier), and which variations a parent's page
    offers."""
    _record_shop_products_of_m2m_change("suppliers", instance, action, reverse, pk_set)


def group_price_changed(sender, instance, raw=False, **kwargs):
    """A customer group price or discount of the anonymous group (customer group pricing)."""
    if raw or instance.shop_id not in recording_shop_ids() or instance.group_id != anonymous_group_id():
        return
    if record_catalogue_rows(instance.shop_id, ShopProduct.objects.filter(
            shop_id=instance.shop_id, product_id=instance.product_id)):
        schedule_delivery(instance.shop_id)


def price_display_saved(sender, instance, raw=False, **kwargs):
    """The anonymous group's price display options in a shop: every product Mailchimp has goes again (with or
    without tax); those whose payload is the same close without a request."""
    if raw or instance.shop_id not in recording_shop_ids():
        return
    if kwargs.get("created") and instance.show_prices_including_taxes is None:
        return  # Shuup's defaults, created on a visitor's first request: prices shown as the shop enters them
    if instance.group_id == AnonymousContact.get_default_group().pk and state.resend_all(
            instance.shop_id, SyncKind.PRODUCT):
        schedule_delivery(instance.shop_id)


def shop_saved(shop, stored):
    """The shop's currency or its "prices include tax" changed: every product Mailchimp has goes again (its
    prices are of another currency, or entered with another taxness; those whose payload is the same close
    without a request, many through batches). A new currency is also the store's: an Initialize is queued
    for a connected shop, which updates the store's ``currency_code`` (a paused or disconnected shop's is
    updated by the Initialize that repairs or reconnects it)."""
    if shop.pk not in recording_shop_ids():
        return
    currency_changed = stored["currency"] != shop.currency
    if not currency_changed and bool(stored["prices_include_tax"]) == bool(shop.prices_include_tax):
        return
    if currency_changed:
        configuration = MailchimpConfiguration.objects.filter(shop_id=shop.pk).first()
        if configuration is not None and configuration.is_active:
            request_job(shop.pk, JobKind.INITIALIZE)
    if state.resend_all(shop.pk, SyncKind.PRODUCT) or currency_changed:
        schedule_delivery(shop.pk)


def _record_tax_classes(tax_class_ids):
    """Queue the products of these tax classes (a variation child's: its parent's row) that Mailchimp has, in
    the recording shops that show visitors prices in another taxness than they enter them (Shuup converts them
    with the tax rules: a rate changed changes what visitors see). A shop that shows prices as it enters them
    shows the same prices whatever the taxes."""
    tax_class_ids = {pk for pk in tax_class_ids if pk}
    if not tax_class_ids:
        return
    for shop in Shop.objects.filter(pk__in=list(recording_shop_ids())):
        if not VisitorPrices(shop).converts:
            continue
        if record_catalogue_rows(shop.pk, ShopProduct.objects.filter(
                shop_id=shop.pk, product__tax_class_id__in=list(tax_class_ids))):
            schedule_delivery(shop.pk)


def _rule_tax_classes(rules):
    from shuup.default_tax.models import TaxRule

    return set(TaxRule.tax_classes.through.objects.filter(taxrule_id__in=rules).values_list(
        "taxclass_id", flat=True))


def tax_saved(sender, instance, raw=False, created=False, **kwargs):
    """A tax's rate, amount or ``enabled`` changed: the tax classes of the rules that apply it."""
    if raw or created or not recording_shop_ids() or not apps.is_installed("shuup.default_tax"):
        return
    from shuup.default_tax.models import TaxRule

    _record_tax_classes(_rule_tax_classes(TaxRule.objects.filter(tax_id=instance.pk).values("pk")))


def tax_rule_changed(sender, instance, raw=False, **kwargs):
    """A tax rule saved (its tax, ``enabled``, conditions) or about to be deleted (its classes still linked)."""
    if not raw and instance.pk and recording_shop_ids():
        _record_tax_classes(_rule_tax_classes([instance.pk]))


def tax_rule_classes_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Tax classes given to a rule or taken from it (the admin's form sets them after saving the rule), from
    either side."""
    if action not in ("post_add", "post_remove", "pre_clear") or not recording_shop_ids():
        return
    if reverse:  # instance is the tax class
        _record_tax_classes([instance.pk])
    elif pk_set:
        _record_tax_classes(pk_set)
    elif action == "pre_clear":
        _record_tax_classes(_rule_tax_classes([instance.pk]))


def connect():
    post_save.connect(tax_saved, sender=Tax, dispatch_uid=TAX_SAVED_UID)
    if apps.is_installed("shuup.default_tax"):
        from shuup.default_tax.models import TaxRule

        post_save.connect(tax_rule_changed, sender=TaxRule, dispatch_uid=TAX_RULE_SAVED_UID)
        pre_delete.connect(tax_rule_changed, sender=TaxRule, dispatch_uid=TAX_RULE_DELETING_UID)
        m2m_changed.connect(tax_rule_classes_changed, sender=TaxRule.tax_classes.through,
                            dispatch_uid=TAX_RULE_CLASSES_UID)
    post_save.connect(price_display_saved, sender=ContactGroupPriceDisplay, dispatch_uid=PRICE_DISPLAY_SAVED_UID)
    m2m_changed.connect(shop_product_categories_changed, sender=ShopProduct.categories.through,
                        dispatch_uid=SHOP_PRODUCT_CATEGORIES_UID)
    m2m_changed.connect(shop_product_suppliers_changed, sender=ShopProduct.suppliers.through,
                        dispatch_uid=SHOP_PRODUCT_SUPPLIERS_UID)
    if apps.is_installed("shuup.customer_group_pricing"):
        from shuup.customer_group_pricing.models import CgpDiscount, CgpPrice

        for model in (CgpPrice, CgpDiscount):
            post_save.connect(group_price_changed, sender=model, dispatch_uid=GROUP_PRICE_SAVED_UID % model.__name__)
            post_delete.connect(group_price_changed, sender=model,
                                dispatch_uid=GROUP_PRICE_DELETED_UID % model.__name__)
    if apps.is_installed("shuup.discounts"):
        from shuup.discounts.models import Discount, HappyHour, TimeRange

        pre_save.connect(discount_saving, sender=Discount, dispatch_uid=DISCOUNT_SAVING_UID)
        post_save.connect(discount_saved, sender=Discount, dispatch_uid=DISCOUNT_SAVED_UID)
        pre_delete.connect(discount_deleting, sender=Discount, dispatch_uid=DISCOUNT_DELETING_UID)
        m2m_changed.connect(discount_happy_hours_changed, sender=Discount.happy_hours.through,
                            dispatch_uid=DISCOUNT_HAPPY_HOURS_UID)
        pre_delete.connect(happy_hour_deleting, sender=HappyHour, dispatch_uid=HAPPY_HOUR_DELETING_UID)
        post_save.connect(time_range_changed, sender=TimeRange, dispatch_uid=TIME_RANGE_SAVED_UID)
        pre_delete.connect(time_range_changed, sender=TimeRange, dispatch_uid=TIME_RANGE_DELETING_UID)
