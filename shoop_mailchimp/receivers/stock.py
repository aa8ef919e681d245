"""A product's inventory: Shuup's ``stocks_updated``, and stock management turned on or off in
simple_supplier (recorded as the product's catalogue row, :mod:`shoop_mailchimp.receivers.products`)."""
from django.apps import apps
from django.db.models.signals import post_init, post_save
from shuup.core.signals import stocks_updated

from shoop_mailchimp.receivers.products import catalogue_ids, record_catalogue
from shoop_mailchimp.shops import recording_shop_ids

STOCKS_UPDATED_UID = "shoop_mailchimp.stocks_updated"
STOCK_COUNT_LOADED_UID = "shoop_mailchimp.stock_count_loaded"
STOCK_COUNT_SAVED_UID = "shoop_mailchimp.stock_count_saved"

#: Whether a stock count instance manages stock in the database (as loaded or last saved): see
#: :func:`stock_count_saved`.
STORED_STOCK_MANAGED = "_shoop_mailchimp_stored_stock_managed"


def stocks_updated_receiver(sender, shops, product_ids, supplier=None, **kwargs):
    """Shuup's stock signal (a supplier's stock counted again, an order shipped): the products' inventory."""
    if recording_shop_ids():
        record_catalogue(catalogue_ids(product_ids), shop_ids=[shop.pk for shop in shops])


def stock_count_loaded(sender, instance, **kwargs):
    instance.__dict__[STORED_STOCK_MANAGED] = instance.__dict__.get("stock_managed")


def stock_count_saved(sender, instance, raw=False, **kwargs):
    """Stock management turned on or off for a product (simple_supplier's admin toggle saves the stock count
    without ``stocks_updated``): its inventory is counted, or untracked, from now on. Other saves (every stock
    adjustment, every order) cost nothing here: ``stocks_updated`` covers them."""
    stored = instance.__dict__.get(STORED_STOCK_MANAGED)
    instance.__dict__[STORED_STOCK_MANAGED] = instance.stock_managed
    if not raw and stored != instance.stock_managed and recording_shop_ids():
        record_catalogue(catalogue_ids([instance.product_id]))


def connect():
    stocks_updated.connect(stocks_updated_receiver, dispatch_uid=STOCKS_UPDATED_UID)
    if apps.is_installed("shuup.simple_supplier"):
        stock_count = apps.get_model("simple_supplier", "StockCount")
        post_init.connect(stock_count_loaded, sender=stock_count, dispatch_uid=STOCK_COUNT_LOADED_UID)
        post_save.connect(stock_count_saved, sender=stock_count, dispatch_uid=STOCK_COUNT_SAVED_UID)
