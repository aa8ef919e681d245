"""A product's inventory: Shuup's ``stocks_updated``, stock management turned on or off in simple_supplier
(for a product, recorded as the product's catalogue row, :mod:`shoop_mailchimp.receivers.products`), and a
supplier's *Stock managed* switched or its shops changed (its counted products' rows, through sync state)."""
from django.apps import apps
from django.db.models import Subquery
from django.db.models.signals import m2m_changed, post_init, post_save, pre_save
from shuup.core.models import ShopProduct, Supplier
from shuup.core.signals import stocks_updated

from shoop_mailchimp.receivers.products import catalogue_ids, record_catalogue
from shoop_mailchimp.receivers.recording import loaded_value, recall, remember
from shoop_mailchimp.shops import recording_shop_ids
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.kinds.product import record_catalogue_rows

STOCKS_UPDATED_UID = "shoop_mailchimp.stocks_updated"
STOCK_COUNT_LOADED_UID = "shoop_mailchimp.stock_count_loaded"
STOCK_COUNT_SAVED_UID = "shoop_mailchimp.stock_count_saved"
SUPPLIER_SAVING_UID = "shoop_mailchimp.supplier_saving"
SUPPLIER_SAVED_UID = "shoop_mailchimp.supplier_saved"
SUPPLIER_SHOPS_UID = "shoop_mailchimp.supplier_shops_changed"

#: Whether a stock count instance manages stock in the database (as loaded or last saved): see
#: :func:`stock_count_saved`.
STORED_STOCK_MANAGED = "_shoop_mailchimp_stored_stock_managed"
#: Whether a supplier being saved manages stock in the database: see :func:`supplier_saving`.
STORED_SUPPLIER_STOCK_MANAGED = "_shoop_mailchimp_stored_supplier_stock_managed"


def stocks_updated_receiver(sender, shops, product_ids, supplier=None, **kwargs):
    """Shuup's stock signal (a supplier's stock counted again, an order shipped): the products' inventory."""
    if recording_shop_ids():
        record_catalogue(catalogue_ids(product_ids), shop_ids=[shop.pk for shop in shops])


def stock_count_loaded(sender, instance, **kwargs):
    remember(instance, STORED_STOCK_MANAGED, loaded_value(instance, "stock_managed"))


def stock_count_saved(sender, instance, raw=False, **kwargs):
    """Stock management turned on or off for a product (simple_supplier's admin toggle saves the stock count
    without ``stocks_updated``): its inventory is counted, or untracked, from now on. Other saves (every stock
    adjustment, every order) cost nothing here: ``stocks_updated`` covers them."""
    stored = getattr(instance, STORED_STOCK_MANAGED, None)
    remember(instance, STORED_STOCK_MANAGED, instance.stock_managed)
    if not raw and stored != instance.stock_managed and recording_shop_ids():
        record_catalogue(catalogue_ids([instance.product_id]))


def _record_counted(supplier_id, shop_ids):
    """Queue, in the caller's transaction, the rows Mailchimp has of the products whose stock the supplier
    counts (a stock count managing stock: the only ones whose figure its switch or its shops change), in
    these shops (the recording ones among them); one statement per shop however many products (a
    thousand rows due at once go through batches)."""
    if not apps.is_installed("shuup.simple_supplier"):
        return
    counted = apps.get_model("simple_supplier", "StockCount").objects.filter(
        supplier_id=supplier_id, stock_managed=True).values("product_id")
    for shop_id in set(shop_ids) & set(recording_shop_ids()):
        if record_catalogue_rows(shop_id, ShopProduct.objects.filter(
                shop_id=shop_id, product_id__in=Subquery(counted))):
            schedule_delivery(shop_id)


def _record_supplied(supplier_ids, shop_ids):
    """Queue, in the caller's transaction, the rows Mailchimp has of the products these suppliers supply in
    these shops (the recording ones among them): whether they can be bought there changed (a supplier
    enabled or disabled, deleted, approved or not, added to a shop or taken out of it)."""
    for shop_id in set(shop_ids) & set(recording_shop_ids()):
        if record_catalogue_rows(shop_id, ShopProduct.objects.filter(
                shop_id=shop_id, suppliers__in=list(supplier_ids)).distinct()):
            schedule_delivery(shop_id)


def _shops_of(supplier_id):
    return Supplier.shops.through.objects.filter(supplier_id=supplier_id).values_list("shop_id", flat=True)


def supplier_saving(sender, instance, raw=False, **kwargs):
    """Remember whether the supplier manages stock in the database (its admin form saves the whole supplier)."""
    stored = None
    if not raw and instance.pk and recording_shop_ids():
        stored = sender.objects.filter(pk=instance.pk).values_list("stock_managed", flat=True).first()
    remember(instance, STORED_SUPPLIER_STOCK_MANAGED, stored)


def supplier_saved(sender, instance, raw=False, created=False, **kwargs):
    """A supplier saved: whether its products can be bought in its shops may have changed (enabled or disabled,
    deleted; its admin form then sets its approval per shop with a queryset update that sends no signal, in the
    same transaction), so they are queued there; a product whose payload is the same closes without a request.
    *Stock managed* switched on (Shuup then sells only what is counted: a sold-out product is sent sold out) or
    off (untracked again): its counted products' stock in its shops."""
    if raw or created:
        return
    _record_supplied([instance.pk], _shops_of(instance.pk))
    stored = recall(instance, STORED_SUPPLIER_STOCK_MANAGED)
    if stored is None or bool(stored) == bool(instance.stock_managed):
        return
    _record_counted(instance.pk, _shops_of(instance.pk))


def supplier_shops_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A supplier added to shops or removed from them (from either side; before a clear, the shops it
    leaves): the products it supplies there (sold by it, or by nobody now), and, if it manages stock, its
    counted products' stock there."""
    if action not in ("post_add", "post_remove", "pre_clear") or not recording_shop_ids():
        return
    if action != "pre_clear" and not pk_set:
        return
    if reverse:  # instance is the shop, pk_set the suppliers (none: all of the shop's, before a clear)
        suppliers = Supplier.objects.filter(pk__in=pk_set) if pk_set else Supplier.objects.filter(shops=instance.pk)
        _record_supplied(list(suppliers.values_list("pk", flat=True)), [instance.pk])
        for supplier_id in suppliers.filter(stock_managed=True).values_list("pk", flat=True):
            _record_counted(supplier_id, [instance.pk])
    else:
        shop_ids = list(pk_set or _shops_of(instance.pk))
        _record_supplied([instance.pk], shop_ids)
        if instance.stock_managed:
            _record_counted(instance.pk, shop_ids)


def connect():
    stocks_updated.connect(stocks_updated_receiver, dispatch_uid=STOCKS_UPDATED_UID)
    pre_save.connect(supplier_saving, sender=Supplier, dispatch_uid=SUPPLIER_SAVING_UID)
    post_save.connect(supplier_saved, sender=Supplier, dispatch_uid=SUPPLIER_SAVED_UID)
    m2m_changed.connect(supplier_shops_changed, sender=Supplier.shops.through, dispatch_uid=SUPPLIER_SHOPS_UID)
    if apps.is_installed("shuup.simple_supplier"):
        stock_count = apps.get_model("simple_supplier", "StockCount")
        post_init.connect(stock_count_loaded, sender=stock_count, dispatch_uid=STOCK_COUNT_LOADED_UID)
        post_save.connect(stock_count_saved, sender=stock_count, dispatch_uid=STOCK_COUNT_SAVED_UID)
