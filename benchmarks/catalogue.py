"""The catalogue: a shop's existing products sent in bulk through batches, the cost of a product save
with the integration on, and a stock update of many products sent through batches by the drainer.

Against the bundled emulator in a process of its own. Products are inserted in bulk (the figures
measure the sync, not Shuup's product saves); peak memory is this process's VmHWM after the bulk sync.
"""
import statistics
import sys
import time

from bulk import api_requests, batch_posts, peak_rss_mb, set_enabled
from common import MISSED, RemoteEmulator, configure_shop, ratio_line, setup_django, size

PRODUCTS = size("BENCH_CATALOGUE_PRODUCTS", 10000, 500)
VARIANTS = 3
#: Products whose stock one ``stocks_updated`` signal reports.
STOCK_UPDATE = size("BENCH_CATALOGUE_STOCK", 1000, 100)
SAVES = size("BENCH_CATALOGUE_SAVES", 100, 50)
#: Saves in a row with the integration on (then off).
BLOCK = 25
#: Products inserted per transaction.
CHUNK = 1000


def raw_insert(model, template, rows):
    """Insert ``rows`` ({attname: value} each) of ``model`` in one executemany, every other column as in the
    unsaved ``template`` instance: Django's bulk_create prepares each value of each object, a minute for a
    catalogue of this size."""
    from django.db import connection

    # The primary key only where the rows give it: else the database numbers them.
    fields = [field for field in model._meta.concrete_fields if not field.primary_key or field.attname in rows[0]]
    names = [field.attname for field in fields]
    column = connection.ops.quote_name
    sql = "INSERT INTO %s (%s) VALUES (%s)" % (column(model._meta.db_table),
                                               ", ".join(column(field.column) for field in fields),
                                               ", ".join(["%s"] * len(fields)))
    defaults = [field.get_db_prep_save(field.pre_save(template, True), connection) for field in fields]
    position = {name: index for index, name in enumerate(names)}
    values = []
    for row in rows:  # the rows' values are plain numbers and text: nothing to prepare
        value = list(defaults)
        for name, given in row.items():
            value[position[name]] = given
        values.append(value)
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def insert_catalogue(shop, count):
    """``count`` visible products with VARIANTS variation children each, as a shop that predates the
    integration has them: inserted in bulk, nothing recorded. Returns the parents' ids."""
    from django.db import transaction
    from django.db.models import Max
    from shuup.core.models import Product, ProductMode, ShopProduct, ShopProductVisibility
    from shuup.testing.factories import get_default_product_type, get_default_sales_unit, get_default_tax_class

    translation = Product._parler_meta.root_model
    product_template = Product(type=get_default_product_type(), tax_class=get_default_tax_class(),
                               sales_unit=get_default_sales_unit())
    shop_product_template = ShopProduct(shop=shop, visibility=ShopProductVisibility.ALWAYS_VISIBLE)
    translation_template = translation(language_code="en", description="A product of the benchmark")
    first = (Product.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    parents = []
    for start in range(0, count, CHUNK):
        products, names = [], []
        for number in range(start, min(count, start + CHUNK)):
            parent_id = first + number * (VARIANTS + 1)
            parents.append(parent_id)
            products.append({"id": parent_id, "sku": "p%d" % number, "mode": ProductMode.SIMPLE_VARIATION_PARENT.value})
            names.append((parent_id, "Product %d" % number))
            for variant in range(1, VARIANTS + 1):
                products.append({"id": parent_id + variant, "sku": "p%d-%d" % (number, variant),
                                 "variation_parent_id": parent_id, "mode": ProductMode.VARIATION_CHILD.value})
                names.append((parent_id + variant, "Product %d, size %d" % (number, variant)))
        with transaction.atomic():
            raw_insert(Product, product_template, products)
            raw_insert(translation, translation_template, [
                {"master_id": pk, "name": name, "slug": "product-%d" % pk} for pk, name in names])
            raw_insert(ShopProduct, shop_product_template, [
                {"product_id": product["id"], "default_price_value": 10 + product["id"] % 7} for product in products])
    return parents


def measure_bulk(emulator, configuration):
    from django.conf import settings

    from shoop_mailchimp.sync import bulk

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=1)
    set_enabled(configuration, False)
    started = time.perf_counter()
    parents = insert_catalogue(configuration.shop, PRODUCTS)
    print("created %d products with %d variants each in %.1f s" % (PRODUCTS, VARIANTS, time.perf_counter() - started))
    set_enabled(configuration, True)
    emulator.clear_requests()
    started = time.perf_counter()
    report = bulk.sync_existing(configuration.shop_id, timeout=600)
    seconds = time.perf_counter() - started
    assert report["product synced"] == PRODUCTS, report
    requests = api_requests(emulator)
    print("bulk: %d products synced in %.1f s with %d API requests (%d batches)" % (
        report["product synced"], seconds, requests, len(batch_posts(emulator))))
    return parents, requests


def measure_saves(emulator, configuration, product_id):
    """Seconds a product save takes with the integration on, and off (alternating, median of each);
    asserts that no save made an HTTP request."""
    from django.db import transaction
    from shuup.core.models import Product

    product = Product.objects.get(pk=product_id)
    times = {True: [], False: []}
    emulator.clear_requests()
    # In blocks, on and off in turn: switching costs a query at the next save (the shops that record are
    # cached), not a save's own cost.
    for number in range(2 * SAVES):
        enabled = (number // BLOCK) % 2 == 0
        if configuration.enabled != enabled:
            set_enabled(configuration, enabled)
            product.save()  # the first save after the switch reads the configuration again
        product.sku = "saved-%d" % number
        started = time.perf_counter()
        with transaction.atomic():  # as Shuup's admin saves a product
            product.save()
        times[enabled].append(time.perf_counter() - started)
    set_enabled(configuration, True)
    assert api_requests(emulator) == 0, "a product save talked to Mailchimp"
    return statistics.median(times[True]), statistics.median(times[False])


def measure_stock_update(emulator, configuration, parents):
    """Stock counted again for STOCK_UPDATE products (one variant each), reported by one ``stocks_updated``;
    then the drainer's rounds until nothing is due or open. Returns (batch submissions, API requests, products
    sent since the signal)."""
    from django.conf import settings
    from django.utils import timezone
    from shuup.core.models import ShopProduct
    from shuup.core.signals import stocks_updated
    from shuup.simple_supplier.models import StockCount
    from shuup.testing.factories import get_default_supplier

    from shoop_mailchimp.models import SyncKind, SyncState, SyncStatus
    from shoop_mailchimp.sync.rounds import run_due_work, seconds_to_next_round

    settings.SHOOP_MAILCHIMP = {name: value for name, value in settings.SHOOP_MAILCHIMP.items()
                                if name not in ("BATCH_POLL_INTERVAL", "BURST_THRESHOLD")}
    settings.SHOOP_MAILCHIMP["BURST_THRESHOLD"] = min(1000, STOCK_UPDATE)  # the default, or the quick size
    supplier = get_default_supplier()
    supplier.stock_managed = True  # Shuup's default supplier counts no stock: its products would not change
    supplier.save()
    variants = [parent + 1 for parent in parents[:STOCK_UPDATE]]
    # The supplier sells every one of them here (Shuup counts a product's stock over its shop product's suppliers):
    # the stock change reaches their payloads.
    for shop_product in ShopProduct.objects.filter(product_id__in=variants, shop=configuration.shop):
        shop_product.suppliers.add(supplier)
    supplier.shops.add(configuration.shop)
    StockCount.objects.bulk_create([StockCount(supplier=supplier, product_id=pk, logical_count=4, physical_count=4)
                                    for pk in variants], batch_size=500)
    emulator.clear_requests()
    started, sent_after = time.perf_counter(), timezone.now()
    stocks_updated.send(type(supplier), shops=[configuration.shop], product_ids=variants, supplier=supplier)
    while True:
        run_due_work()
        if not SyncState.objects.exclude(status__in=(SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.SKIPPED)
                                         ).exists():
            break
        time.sleep(seconds_to_next_round())
    synced = SyncState.objects.filter(kind=SyncKind.PRODUCT, last_synced_at__gte=sent_after).count()
    print("stock update: %d of %d products reached Mailchimp in %.1f s with %d API requests" % (
        synced, STOCK_UPDATE, time.perf_counter() - started, api_requests(emulator)))
    return len(batch_posts(emulator)), api_requests(emulator), synced


def main():
    setup_django()
    from shoop_mailchimp.sync.drainer import drain
    from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

    emulator = RemoteEmulator()
    configuration = configure_shop(emulator, DEMO_API_KEY, DEMO_LIST_ID, delivery="worker")
    drain()
    ok = True
    try:
        parents, requests = measure_bulk(emulator, configuration)
        ok &= ratio_line("bulk catalogue, %d products x %d variants: API requests" % (PRODUCTS, VARIANTS),
                         requests, 30, unit="")
        ok &= ratio_line("peak RSS with the bulk catalogue (MB)", peak_rss_mb(), 300, unit="")
        on, off = measure_saves(emulator, configuration, parents[-1])
        print("product save: %.2f ms with the integration on, %.2f ms off, no HTTP" % (on * 1000, off * 1000))
        ok &= ratio_line("product save, integration on / off", on / off, 1.10)
        drain()  # the saved product, so that only the stock update's products are due
        submissions, _requests, synced = measure_stock_update(emulator, configuration, parents)
        ok &= ratio_line("stock update of %d products: batch submissions" % STOCK_UPDATE, submissions, 2, unit="")
        # Nothing sent would meet "at most 2 submissions" too: every product must have reached Mailchimp.
        ok &= ratio_line("stock update: products that did not reach Mailchimp", STOCK_UPDATE - synced, 0, unit="")
    finally:
        emulator.stop()
    sys.exit(0 if ok else MISSED)


if __name__ == "__main__":
    main()
