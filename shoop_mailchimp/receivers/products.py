"""The catalogue: a product, its translations, its shop products, its category's name, its manufacturer and
its images; one record per shop however many products (``record_catalogue``). Stock is in
:mod:`shoop_mailchimp.receivers.stock`."""
from collections import defaultdict

from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from shuup.core.models import Category, Manufacturer, Product, ProductMedia, ShopProduct

from shoop_mailchimp.models import SyncKind
from shoop_mailchimp.receivers.recording import recall, record
from shoop_mailchimp.shops import recording_shop_ids
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.kinds.product import catalogue_id

PRODUCT_SAVING_UID = "shoop_mailchimp.product_saving"
PRODUCT_SAVED_UID = "shoop_mailchimp.product_saved"
PRODUCT_DELETED_UID = "shoop_mailchimp.product_deleted"
MANUFACTURER_SAVED_UID = "shoop_mailchimp.manufacturer_saved"
MANUFACTURER_DELETING_UID = "shoop_mailchimp.manufacturer_deleting"
TEXT_SAVED_UID = "shoop_mailchimp.text_saved.%s"
TEXT_DELETED_UID = "shoop_mailchimp.text_deleted.%s"
SHOP_PRODUCT_SAVED_UID = "shoop_mailchimp.shop_product_saved"
SHOP_PRODUCT_DELETED_UID = "shoop_mailchimp.shop_product_deleted"
PRODUCT_MEDIA_SAVED_UID = "shoop_mailchimp.product_media_saved"
PRODUCT_MEDIA_DELETED_UID = "shoop_mailchimp.product_media_deleted"
PRODUCT_MEDIA_SHOPS_UID = "shoop_mailchimp.product_media_shops_changed"

#: The variation parent a product being saved has in the database: see :func:`product_saving`.
STORED_PARENT = "_shoop_mailchimp_stored_parent"


def record_catalogue(parent_ids, shop_ids=None, only_known=False):
    """Note these products (variation parents or products without variants) for the recording shops that
    sell them, one record per shop however many products: a stock update of a thousand products is one
    burst, sent through batches."""
    shop_ids = set(recording_shop_ids()) if shop_ids is None else set(shop_ids) & set(recording_shop_ids())
    parent_ids = set(parent_ids)
    if not (shop_ids and parent_ids):
        return
    if only_known:
        per_shop = dict.fromkeys(shop_ids, parent_ids)
    else:
        per_shop = {}
        for shop_id, product_id in ShopProduct.objects.filter(shop_id__in=shop_ids, product_id__in=parent_ids
                                                              ).values_list("shop_id", "product_id"):
            per_shop.setdefault(shop_id, set()).add(product_id)
    for shop_id, product_ids in per_shop.items():
        record(shop_id, SyncKind.PRODUCT, product_ids, only_known=only_known)


def catalogue_ids(product_ids):
    """The catalogue rows' ids for these products: a variation child's parent, else the product itself."""
    return set(Product.objects.filter(pk__in=list(product_ids)).annotate(parent=Coalesce("variation_parent_id", "id"))
               .values_list("parent", flat=True))


def product_saving(sender, instance, raw=False, **kwargs):
    """Remember the parent the database holds for a variation about to be saved: unlinked from it, or moved
    to another, the variation leaves that parent's variants (see :func:`product_saved`)."""
    if raw or not instance.pk or not recording_shop_ids():
        setattr(instance, STORED_PARENT, None)
        return
    setattr(instance, STORED_PARENT, Product.objects.filter(pk=instance.pk).values_list(
        "variation_parent_id", flat=True).first())


def product_saved(sender, instance, raw=False, **kwargs):
    """A product edited (name, SKU, manufacturer, a soft delete, a variation linked to its parent, unlinked
    from it or moved to another). A product with a row in each recording shop is queued in one statement per
    shop, without reading its shop products: the common case of an admin's save."""
    shop_ids = recording_shop_ids()
    former_parent_id = recall(instance, STORED_PARENT)
    if raw or not shop_ids:
        return
    if former_parent_id and former_parent_id != instance.variation_parent_id:
        # Its former parent is sent again without it: the variant is hidden there (an order may name it).
        record_catalogue([former_parent_id], only_known=True)
    parent_id = catalogue_id(instance)
    unknown = [shop_id for shop_id in shop_ids if not state.record(shop_id, SyncKind.PRODUCT, [parent_id],
                                                                    only_known=True)]
    for shop_id in set(shop_ids) - set(unknown):
        schedule_delivery(shop_id)
    if unknown:
        record_catalogue([parent_id], shop_ids=unknown)
    if instance.variation_parent_id:  # sent as a product of its own before it became a variant?
        record_catalogue([instance.pk], only_known=True)


def product_text_changed(sender, instance, raw=False, **kwargs):
    """A product's name, slug or description in one language. Parler saves a product's translations after
    the product (after its ``post_save``): a save outside a transaction commits the product, and may send it,
    before its new name is in the database."""
    if not raw and instance.master_id and recording_shop_ids():
        record_catalogue(catalogue_ids([instance.master_id]))


def shop_product_text_changed(sender, instance, raw=False, **kwargs):
    """A shop product's description in one language (saved after the shop product, as a product's)."""
    if raw or not instance.master_id or not recording_shop_ids():
        return
    shop_product = ShopProduct.objects.filter(pk=instance.master_id).values_list("shop_id", "product_id").first()
    if shop_product and shop_product[0] in recording_shop_ids():
        record_catalogue(catalogue_ids([shop_product[1]]), shop_ids=[shop_product[0]])


def category_renamed(sender, instance, raw=False, **kwargs):
    """A category's name: the products it is the primary category of in a shop (their ``type``)."""
    shop_ids = recording_shop_ids()
    if raw or not instance.master_id or not shop_ids:
        return
    per_shop = defaultdict(set)
    for shop_id, product_id in ShopProduct.objects.filter(
            primary_category_id=instance.master_id, shop_id__in=shop_ids).values_list("shop_id", "product_id"):
        per_shop[shop_id].add(product_id)
    for shop_id, product_ids in per_shop.items():
        record_catalogue(catalogue_ids(product_ids), shop_ids=[shop_id], only_known=True)


def manufacturer_saved(sender, instance, raw=False, created=False, **kwargs):
    """A manufacturer renamed: the ``vendor`` of its products Mailchimp has (one record per shop)."""
    if raw or created or not recording_shop_ids():
        return
    parents = Product.objects.filter(manufacturer_id=instance.pk).annotate(
        parent=Coalesce("variation_parent_id", "id")).values_list("parent", flat=True)
    record_catalogue(set(parents), only_known=True)


def manufacturer_deleting(sender, instance, **kwargs):
    """A manufacturer deleted: Django takes it off its products with one UPDATE (no product save), so their
    ``vendor`` is recorded here, before; they are sent after the commit, without it."""
    manufacturer_saved(sender, instance)


def product_deleted(sender, instance, **kwargs):
    """A product deleted for good: Mailchimp deletes it (no order can name it: Shuup protects those)."""
    if recording_shop_ids():
        record_catalogue({instance.pk, catalogue_id(instance)}, only_known=True)


def shop_product_saved(sender, instance, raw=False, **kwargs):
    """Price, visibility, description, category of a product in one shop."""
    if not raw and instance.shop_id in recording_shop_ids():
        record_catalogue([catalogue_id(instance.product)], shop_ids=[instance.shop_id])


def shop_product_deleted(sender, instance, **kwargs):
    """A product no longer sold in a shop: its row, or its parent's (a variation child's variant goes hidden)."""
    if instance.shop_id in recording_shop_ids():
        record_catalogue({instance.product_id} | catalogue_ids([instance.product_id]), shop_ids=[instance.shop_id],
                         only_known=True)


def product_media_changed(sender, instance, raw=False, **kwargs):
    """An image added, changed or removed: the product's images and image URL change."""
    if not raw and recording_shop_ids():
        record_catalogue(catalogue_ids([instance.product_id]), only_known=kwargs.get("signal") is post_delete)


def product_media_shops_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """An image shown in more or fewer shops."""
    if action not in ("post_add", "post_remove", "post_clear") or not recording_shop_ids():
        return
    if reverse:  # instance is the shop, pk_set the media
        product_ids = ProductMedia.objects.filter(pk__in=pk_set or []).values_list("product_id", flat=True)
        record_catalogue(catalogue_ids(product_ids), shop_ids=[instance.pk])
    else:
        record_catalogue(catalogue_ids([instance.product_id]), shop_ids=pk_set)


def shop_products_updated(shop_id, shop_products):
    """Shop products of a shop changed without a save, so without a signal (the admin's "Set visible" and
    "Set invisible" update a queryset): their catalogue rows, one record however many."""
    if shop_id in recording_shop_ids():
        record_catalogue(catalogue_ids(shop_products.values_list("product_id", flat=True)), shop_ids=[shop_id])


def connect():
    pre_save.connect(product_saving, sender=Product, dispatch_uid=PRODUCT_SAVING_UID)
    post_save.connect(product_saved, sender=Product, dispatch_uid=PRODUCT_SAVED_UID)
    post_delete.connect(product_deleted, sender=Product, dispatch_uid=PRODUCT_DELETED_UID)
    post_save.connect(manufacturer_saved, sender=Manufacturer, dispatch_uid=MANUFACTURER_SAVED_UID)
    pre_delete.connect(manufacturer_deleting, sender=Manufacturer, dispatch_uid=MANUFACTURER_DELETING_UID)
    for model, receiver in ((Product, product_text_changed), (ShopProduct, shop_product_text_changed),
                            (Category, category_renamed)):
        translation = model._meta.get_field("translations").related_model
        post_save.connect(receiver, sender=translation, dispatch_uid=TEXT_SAVED_UID % model.__name__)
        post_delete.connect(receiver, sender=translation, dispatch_uid=TEXT_DELETED_UID % model.__name__)
    post_save.connect(shop_product_saved, sender=ShopProduct, dispatch_uid=SHOP_PRODUCT_SAVED_UID)
    post_delete.connect(shop_product_deleted, sender=ShopProduct, dispatch_uid=SHOP_PRODUCT_DELETED_UID)
    post_save.connect(product_media_changed, sender=ProductMedia, dispatch_uid=PRODUCT_MEDIA_SAVED_UID)
    post_delete.connect(product_media_changed, sender=ProductMedia, dispatch_uid=PRODUCT_MEDIA_DELETED_UID)
    m2m_changed.connect(product_media_shops_changed, sender=ProductMedia.shops.through,
                        dispatch_uid=PRODUCT_MEDIA_SHOPS_UID)
