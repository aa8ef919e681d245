"""Signal receivers: record what Mailchimp must learn, in the caller's transaction. Nothing here
talks to Mailchimp; a drainer delivers after commit (see :mod:`shoop_mailchimp.sync.delivery`).
"""
from collections import defaultdict

from django.apps import apps
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete, pre_save
from django.utils import timezone
from shuup.campaigns.models import BasketCampaign, BasketDiscountEffect, BasketLineEffect, Coupon
from shuup.campaigns.models.campaigns import CouponUsage
from shuup.core.models import (
    Category,
    CompanyContact,
    Contact,
    ContactGroup,
    Manufacturer,
    PersonContact,
    Product,
    ProductMedia,
    ShopProduct,
)
from shuup.core.order_creator.signals import order_creator_finished
from shuup.core.signals import order_changed, order_status_changed, stocks_updated
from shuup.front.models import StoredBasket
from shuup.gdpr.signals import anonymization_requested

from shoop_mailchimp import cart_links, shop_consent
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.models import (
    ConsentRequest,
    ContactGroupInterest,
    LogKind,
    MailchimpConfiguration,
    SyncKind,
    SyncState,
)
from shoop_mailchimp.shops import forget_recording_shops, recording_shop_ids, shop_contacts, shop_ids_for_contact
from shoop_mailchimp.storefront.attribution import remember_for_order
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.kinds.cart import has_shopper
from shoop_mailchimp.sync.kinds.group import concerns_mailchimp, membership_matters, names_members
from shoop_mailchimp.sync.kinds.product import catalogue_id

CONTACT_LOADED_UID = "shoop_mailchimp.contact_loaded.%s"
CONTACT_SAVING_UID = "shoop_mailchimp.contact_saving.%s"
CONTACT_SAVED_UID = "shoop_mailchimp.contact_saved.%s"
CONTACT_DELETED_UID = "shoop_mailchimp.contact_deleted.%s"
GROUP_MEMBERS_UID = "shoop_mailchimp.group_members_changed"
CONTACT_SHOPS_UID = "shoop_mailchimp.contact_shops_changed"
GROUP_SAVED_UID = "shoop_mailchimp.group_saved"
GROUP_RENAMED_UID = "shoop_mailchimp.group_renamed"
GROUP_DELETED_UID = "shoop_mailchimp.group_deleted"
GROUP_DELETING_UID = "shoop_mailchimp.group_deleting"
ORDER_CREATED_UID = "shoop_mailchimp.order_created"
ORDER_STATUS_UID = "shoop_mailchimp.order_status_changed"
ORDER_CHANGED_UID = "shoop_mailchimp.order_changed"
ANONYMIZATION_UID = "shoop_mailchimp.anonymization_requested"
PRODUCT_SAVING_UID = "shoop_mailchimp.product_saving"
PRODUCT_SAVED_UID = "shoop_mailchimp.product_saved"
PRODUCT_DELETED_UID = "shoop_mailchimp.product_deleted"
MANUFACTURER_SAVED_UID = "shoop_mailchimp.manufacturer_saved"
TEXT_SAVED_UID = "shoop_mailchimp.text_saved.%s"
TEXT_DELETED_UID = "shoop_mailchimp.text_deleted.%s"
SHOP_PRODUCT_SAVED_UID = "shoop_mailchimp.shop_product_saved"
SHOP_PRODUCT_DELETED_UID = "shoop_mailchimp.shop_product_deleted"
PRODUCT_MEDIA_SAVED_UID = "shoop_mailchimp.product_media_saved"
PRODUCT_MEDIA_DELETED_UID = "shoop_mailchimp.product_media_deleted"
PRODUCT_MEDIA_SHOPS_UID = "shoop_mailchimp.product_media_shops_changed"
STOCKS_UPDATED_UID = "shoop_mailchimp.stocks_updated"
STOCK_COUNT_LOADED_UID = "shoop_mailchimp.stock_count_loaded"
STOCK_COUNT_SAVED_UID = "shoop_mailchimp.stock_count_saved"
PROMO_CAMPAIGN_SAVED_UID = "shoop_mailchimp.promo_campaign_saved"
PROMO_CAMPAIGN_DELETED_UID = "shoop_mailchimp.promo_campaign_deleted"
PROMO_CAMPAIGN_TEXT_SAVED_UID = "shoop_mailchimp.promo_campaign_text_saved"
PROMO_COUPON_SAVED_UID = "shoop_mailchimp.promo_coupon_saved"
PROMO_EFFECT_SAVED_UID = "shoop_mailchimp.promo_effect_saved.%s"
PROMO_EFFECT_DELETED_UID = "shoop_mailchimp.promo_effect_deleted.%s"
PROMO_USAGE_SAVED_UID = "shoop_mailchimp.promo_usage_saved"
PROMO_USAGE_DELETED_UID = "shoop_mailchimp.promo_usage_deleted"
BASKET_SAVED_UID = "shoop_mailchimp.basket_saved"
CONFIGURATION_SAVED_UID = "shoop_mailchimp.configuration_saved"
CONFIGURATION_DELETED_UID = "shoop_mailchimp.configuration_deleted"

#: The consent a contact instance holds in the database (as loaded or last saved), and when a save of
#: that instance last turned it off: see :func:`order_created`.
STORED_CONSENT = "_shoop_mailchimp_stored_consent"
CONSENT_TURNED_OFF_AT = "_shoop_mailchimp_consent_turned_off_at"
#: Whether this save gives consent the database did not hold: see :func:`consent_given`.
CONSENT_TURNED_ON = "_shoop_mailchimp_consent_turned_on"
#: Whether a stock count instance manages stock in the database (as loaded or last saved): see
#: :func:`stock_count_saved`.
STORED_STOCK_MANAGED = "_shoop_mailchimp_stored_stock_managed"
#: The variation parent a product being saved has in the database: see :func:`product_saving`.
STORED_PARENT = "_shoop_mailchimp_stored_parent"
#: The shop whose storefront this save gives consent in (set by :mod:`shoop_mailchimp.storefront.subscriptions`):
#: the consent counts in that shop only (see :mod:`shoop_mailchimp.shop_consent`).
CONSENT_SHOP = "_shoop_mailchimp_consent_shop"
#: Whether this save withdraws consent the database held: the shopper's carts are sent again (or deleted).
CONSENT_TURNED_OFF = "_shoop_mailchimp_consent_turned_off"


def record(shop_id, kind, object_ids, only_known=False):
    if state.record(shop_id, kind, object_ids, only_known=only_known):
        schedule_delivery(shop_id)


def contact_loaded(sender, instance, **kwargs):
    # Read without triggering the load of a deferred field.
    setattr(instance, STORED_CONSENT, instance.__dict__.get("marketing_permission"))


def contact_saving(sender, instance, raw=False, **kwargs):
    """Note when this save is the one that turns consent off, or on. The instance may be stale (a checkout
    saves the customer it loaded at the start of the request, an admin form the contact it showed): a save
    that did not touch the consent on its instance keeps what the database holds now, which a webhook (an
    unsubscribe, a confirmation) or another request may have changed since the instance was loaded."""
    permission = instance.__dict__.get("marketing_permission")
    loaded = getattr(instance, STORED_CONSENT, None)
    setattr(instance, CONSENT_TURNED_ON, False)
    setattr(instance, CONSENT_TURNED_OFF, False)
    if raw or instance.pk is None or permission is None or loaded is None:
        return
    stored = Contact.objects.filter(pk=instance.pk).values_list("marketing_permission", flat=True).first()
    if stored is None:
        return
    if permission == loaded and stored != permission:
        instance.marketing_permission = permission = stored
    if loaded and permission is False and stored:
        setattr(instance, CONSENT_TURNED_OFF_AT, timezone.now())
    setattr(instance, CONSENT_TURNED_ON, permission is True and loaded is False and stored is False)
    setattr(instance, CONSENT_TURNED_OFF, permission is False and bool(stored))


def contact_saved(sender, instance, raw=False, created=False, **kwargs):
    """A consent this save gives counts in every shop, or, when the storefront of one shop gave it
    (:data:`CONSENT_SHOP`), in that shop only: the others send the contact as one who did not consent."""
    given = instance.__dict__.get("marketing_permission") is True and (created or getattr(
        instance, CONSENT_TURNED_ON, False))
    consent_shop_id = instance.__dict__.pop(CONSENT_SHOP, None)
    setattr(instance, STORED_CONSENT, instance.__dict__.get("marketing_permission"))
    if raw:
        return
    if given:
        if consent_shop_id is None:
            shop_consent.given_everywhere([instance.pk])
        else:
            shop_consent.given_in_shop(consent_shop_id, instance.pk, fresh=True)
    for shop_id in shop_ids_for_contact(instance):
        if given and consent_shop_id in (None, shop_id):
            consent_given(shop_id, instance)
        else:
            record(shop_id, SyncKind.CONTACT, [instance.pk])
        if getattr(instance, CONSENT_TURNED_OFF, False):
            state.record_carts_of(shop_id, [instance.pk])


def consent_given(shop_id, contact):
    """This save gave consent: it is sent as a change, also to a member the shop never told (a former guest
    buyer). An address another contact of the shop has proves nothing (anyone can type it into their account):
    its owner confirms by e-mail first. A company and its own members are one owner (a one-person business
    gives the company its owner's address)."""
    others = set(shop_contacts(shop_id).filter(email__iexact=contact.email).exclude(pk=contact.pk).values_list(
        "pk", flat=True)) if contact.email else set()
    shared = bool(others - _same_owner(contact.pk)) if others else False
    request = ConsentRequest.CONFIRM if shared else ConsentRequest.SUBSCRIBE
    if state.request_consent_change(shop_id, [contact.pk], request):
        schedule_delivery(shop_id)


def _same_owner(contact_id):
    """The companies a contact belongs to, and a company's members."""
    memberships = CompanyContact.members.through.objects
    return set(memberships.filter(contact_id=contact_id).values_list("companycontact_id", flat=True)) | set(
        memberships.filter(companycontact_id=contact_id).values_list("contact_id", flat=True))


def contact_deleted(sender, instance, **kwargs):
    """A deleted contact is erased from Mailchimp, wherever it had been sent."""
    for shop_id in SyncState.objects.contacts().filter(object_id=instance.pk).values_list("shop_id", flat=True):
        if state.erase(shop_id, [instance.pk]):
            schedule_delivery(shop_id)


def anonymization_requested_receiver(sender, shop, contact=None, **kwargs):
    if contact is not None and shop.pk in recording_shop_ids() and state.erase(shop.pk, [contact.pk]):
        schedule_delivery(shop.pk)


def group_members_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Both directions: ``group.members.add(contact)`` and ``contact.groups.add(group)``; only groups that are
    (or were) interests, or that members carry by name (tags, a merge field), matter (Shuup puts every new
    person in its default group: no second send for that).

    ``group.members.clear()`` names no contacts afterwards, so its members are read before.
    """
    if reverse:  # instance is the contact
        if action in ("post_add", "post_remove", "post_clear"):
            for shop_id in shop_ids_for_contact(instance):
                if pk_set is None or membership_matters(shop_id, pk_set):
                    record(shop_id, SyncKind.CONTACT, [instance.pk])
        return
    if action == "pre_clear":
        pk_set = set(instance.members.values_list("pk", flat=True))
    elif action not in ("post_add", "post_remove"):
        return
    for shop_id in _shop_ids_for_group(instance):
        if membership_matters(shop_id, [instance.pk]):
            record(shop_id, SyncKind.CONTACT, pk_set or [])


def _shop_ids_for_group(group):
    shop_ids = recording_shop_ids()
    return [group.shop_id] if group.shop_id in shop_ids else (shop_ids if group.shop_id is None else [])


def contact_shops_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A contact added to a shop (multi-shop set-ups) becomes that shop's to send."""
    if action != "post_add" or reverse or not pk_set:
        return
    for shop_id in set(pk_set) & set(recording_shop_ids()):
        record(shop_id, SyncKind.CONTACT, [instance.pk])


def group_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    for shop_id in _shop_ids_for_group(instance):
        if concerns_mailchimp(shop_id, [instance.pk]):
            record(shop_id, SyncKind.GROUP, [instance.pk])


def group_renamed(sender, instance, raw=False, **kwargs):
    """The interest is renamed; members who carry the group's name (a tag, a merge field) are sent again."""
    if raw or instance.master_id is None:
        return
    group_saved(ContactGroup, instance.master)
    for shop_id in _shop_ids_for_group(instance.master):
        if names_members(shop_id, [instance.master_id]):
            record(shop_id, SyncKind.CONTACT, instance.master.members.values_list("pk", flat=True), only_known=True)


def group_deleting(sender, instance, **kwargs):
    """Members who carry the group's name (a tag, a merge field) are sent again without it; read before the
    delete takes the memberships with it."""
    for shop_id in _shop_ids_for_group(instance):
        if names_members(shop_id, [instance.pk]):
            record(shop_id, SyncKind.CONTACT, instance.members.values_list("pk", flat=True), only_known=True)


def group_deleted(sender, instance, **kwargs):
    for shop_id in _shop_ids_for_group(instance):
        if ContactGroupInterest.objects.filter(shop_id=shop_id, group_id=instance.pk).exists():
            record(shop_id, SyncKind.GROUP, [instance.pk])


def order_created(sender, order, source=None, **kwargs):
    """A new order: send it (with the Mailchimp campaign its visit came from, kept here in the checkout's
    transaction), and refresh its customer (interests, and the consent trap below).

    Shuup's OrderCreator copies the order's marketing checkbox onto the customer, so an order
    placed without ticking it would silently withdraw an earlier consent. An unticked box is not
    a withdrawal: when the save that turned consent off happened while this order was being created,
    it is undone and the event logged. Consent withdrawn before the order (by the shop, by the person,
    by an unsubscribe) stays withdrawn, even if Mailchimp has not heard of it yet.
    """
    if order.shop_id not in recording_shop_ids():
        return
    remember_for_order(order, getattr(source, "request", None))
    record(order.shop_id, SyncKind.ORDER, [order.pk])
    _record_carts_ordered(order, source)
    customer = order.customer
    if customer is None:
        return
    turned_off_at = getattr(customer, CONSENT_TURNED_OFF_AT, None)
    if turned_off_at and turned_off_at >= order.created_on and not order.marketing_permission \
            and not customer.marketing_permission:
        Contact.objects.filter(pk=customer.pk).update(marketing_permission=True)
        customer.marketing_permission = True
        log_event(
            order.shop_id, "consent.kept",
            "Order %s was placed without ticking the marketing box; the customer keeps the consent given "
            "earlier (only an unsubscribe or an edit of the contact withdraws it)." % (order.identifier or order.pk),
            kind=LogKind.INFO, contact_id=customer.pk, order_id=order.pk,
        )
    record(order.shop_id, SyncKind.CONTACT, [customer.pk])


def _record_carts_ordered(order, source):
    """The carts an order ends, besides its own basket's: the stored basket a restore link copied into it, and
    the customer's other open baskets. Their plan deletes a cart whose shopper ordered since it last changed."""
    basket_ids = set()
    restored_from = (getattr(source, "_data", None) or {}).get(cart_links.RESTORED_FROM)
    if isinstance(restored_from, int):
        basket_ids.add(restored_from)
    if order.customer_id:
        basket_ids.update(StoredBasket.objects.filter(shop_id=order.shop_id, customer_id=order.customer_id,
                                                      deleted=False).values_list("pk", flat=True))
    if basket_ids:
        record(order.shop_id, SyncKind.CART, basket_ids, only_known=True)


def order_status_changed_receiver(sender, order, old_status=None, **kwargs):
    """A status change of an order. Not its first status, given on its first save while Shuup's OrderCreator is
    still adding its lines and its campaign: ``order_created`` records the order once it is complete (recorded
    here, the drainer could send it at once without its campaign, and a PATCH add it later)."""
    if old_status is not None and order.shop_id in recording_shop_ids():
        record(order.shop_id, SyncKind.ORDER, [order.pk])


def order_saved(sender, order, **kwargs):
    """Payment, shipping, cancellation and refund changes of an order Mailchimp already has, and its customer (a
    cancellation changes what they spent and whether they are a customer: merge fields, tags; a customer
    whose data did not change closes without a request).

    Shuup saves the order for each of them, so ``order_changed`` is the one signal: a payment that pays it in
    full (``create_payment``), a shipment sent or received (``update_shipping_status``), a cancellation, a refund
    (``create_refund`` saves before sending ``refund_created``). A payment or shipment that changes neither
    status saves nothing, and changes nothing Mailchimp is sent."""
    if state.record(order.shop_id, SyncKind.ORDER, [order.pk], only_known=True):
        if order.customer_id:
            state.record(order.shop_id, SyncKind.CONTACT, [order.customer_id], only_known=True)
        schedule_delivery(order.shop_id)


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


def _parents(product_ids):
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
    former_parent_id = instance.__dict__.pop(STORED_PARENT, None)
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
        record_catalogue(_parents([instance.master_id]))


def shop_product_text_changed(sender, instance, raw=False, **kwargs):
    """A shop product's description in one language (saved after the shop product, as a product's)."""
    if raw or not instance.master_id or not recording_shop_ids():
        return
    shop_product = ShopProduct.objects.filter(pk=instance.master_id).values_list("shop_id", "product_id").first()
    if shop_product and shop_product[0] in recording_shop_ids():
        record_catalogue(_parents([shop_product[1]]), shop_ids=[shop_product[0]])


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
        record_catalogue(_parents(product_ids), shop_ids=[shop_id], only_known=True)


def manufacturer_saved(sender, instance, raw=False, created=False, **kwargs):
    """A manufacturer renamed: the ``vendor`` of its products Mailchimp has (one record per shop)."""
    if raw or created or not recording_shop_ids():
        return
    parents = Product.objects.filter(manufacturer_id=instance.pk).annotate(
        parent=Coalesce("variation_parent_id", "id")).values_list("parent", flat=True)
    record_catalogue(set(parents), only_known=True)


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
        record_catalogue({instance.product_id} | _parents([instance.product_id]), shop_ids=[instance.shop_id],
                         only_known=True)


def product_media_changed(sender, instance, raw=False, **kwargs):
    """An image added, changed or removed: the product's images and image URL change."""
    if not raw and recording_shop_ids():
        record_catalogue(_parents([instance.product_id]), only_known=kwargs.get("signal") is post_delete)


def product_media_shops_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """An image shown in more or fewer shops."""
    if action not in ("post_add", "post_remove", "post_clear") or not recording_shop_ids():
        return
    if reverse:  # instance is the shop, pk_set the media
        product_ids = ProductMedia.objects.filter(pk__in=pk_set or []).values_list("product_id", flat=True)
        record_catalogue(_parents(product_ids), shop_ids=[instance.pk])
    else:
        record_catalogue(_parents([instance.product_id]), shop_ids=pk_set)


def stocks_updated_receiver(sender, shops, product_ids, supplier=None, **kwargs):
    """Shuup's stock signal (a supplier's stock counted again, an order shipped): the products' inventory."""
    if recording_shop_ids():
        record_catalogue(_parents(product_ids), shop_ids=[shop.pk for shop in shops])


def stock_count_loaded(sender, instance, **kwargs):
    instance.__dict__[STORED_STOCK_MANAGED] = instance.__dict__.get("stock_managed")


def stock_count_saved(sender, instance, raw=False, **kwargs):
    """Stock management turned on or off for a product (simple_supplier's admin toggle saves the stock count
    without ``stocks_updated``): its inventory is counted, or untracked, from now on. Other saves (every stock
    adjustment, every order) cost nothing here: ``stocks_updated`` covers them."""
    stored = instance.__dict__.get(STORED_STOCK_MANAGED)
    instance.__dict__[STORED_STOCK_MANAGED] = instance.stock_managed
    if not raw and stored != instance.stock_managed and recording_shop_ids():
        record_catalogue(_parents([instance.product_id]))


def shop_products_updated(shop_id, shop_products):
    """Shop products of a shop changed without a save, so without a signal (the admin's "Set visible" and
    "Set invisible" update a queryset): their catalogue rows, one record however many."""
    if shop_id in recording_shop_ids():
        record_catalogue(_parents(shop_products.values_list("product_id", flat=True)), shop_ids=[shop_id])

def _record_promos(campaigns):
    """Basket campaigns with a coupon are promo rules; one whose coupon went is recorded only if it was sent."""
    shop_ids = recording_shop_ids()
    if not shop_ids:  # no query in a checkout of a shop that sends nothing
        return
    for campaign_id, shop_id, coupon_id in campaigns.filter(shop_id__in=shop_ids).values_list(
            "pk", "shop_id", "coupon_id"):
        record(shop_id, SyncKind.PROMO, [campaign_id], only_known=coupon_id is None)


def campaign_saved(sender, instance, raw=False, **kwargs):
    if not raw and instance.shop_id in recording_shop_ids():
        record(instance.shop_id, SyncKind.PROMO, [instance.pk], only_known=instance.coupon_id is None)


def campaign_deleted(sender, instance, **kwargs):
    """Also a coupon's deletion, which takes its campaign with it."""
    if instance.shop_id in recording_shop_ids():
        record(instance.shop_id, SyncKind.PROMO, [instance.pk], only_known=True)


def campaign_text_changed(sender, instance, raw=False, **kwargs):
    """A campaign's public name in one language: parler saves it after the campaign's ``post_save``, so a
    rename saved outside a transaction may send the campaign before its new name is in the database."""
    if not raw and instance.master_id:
        _record_promos(BasketCampaign.objects.filter(pk=instance.master_id))


def coupon_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _record_promos(BasketCampaign.objects.filter(coupon_id=instance.pk))


def campaign_effect_changed(sender, instance, raw=False, **kwargs):
    """A discount set, changed or removed; read by id: a campaign being deleted takes its effects first."""
    if not raw:
        _record_promos(BasketCampaign.objects.filter(pk=instance.campaign_id))


def coupon_usage_changed(sender, instance, raw=False, **kwargs):
    """An order used the code (or a changed order no longer does): the code's usage count follows."""
    if not raw:
        _record_promos(BasketCampaign.objects.filter(coupon_id=instance.coupon_id))


def _concrete_subclasses(model):
    """Effects are polymorphic: a save signals the concrete class only."""
    for subclass in model.__subclasses__():
        if not subclass._meta.abstract and not subclass._meta.proxy:
            yield subclass
        yield from _concrete_subclasses(subclass)


def connect_promo_receivers():
    post_save.connect(campaign_saved, sender=BasketCampaign, dispatch_uid=PROMO_CAMPAIGN_SAVED_UID)
    post_delete.connect(campaign_deleted, sender=BasketCampaign, dispatch_uid=PROMO_CAMPAIGN_DELETED_UID)
    post_save.connect(campaign_text_changed, sender=BasketCampaign._parler_meta.root_model,
                      dispatch_uid=PROMO_CAMPAIGN_TEXT_SAVED_UID)
    post_save.connect(coupon_saved, sender=Coupon, dispatch_uid=PROMO_COUPON_SAVED_UID)
    for base in (BasketDiscountEffect, BasketLineEffect):
        for model in _concrete_subclasses(base):
            post_save.connect(campaign_effect_changed, sender=model,
                              dispatch_uid=PROMO_EFFECT_SAVED_UID % model.__name__)
            post_delete.connect(campaign_effect_changed, sender=model,
                                dispatch_uid=PROMO_EFFECT_DELETED_UID % model.__name__)
    post_save.connect(coupon_usage_changed, sender=CouponUsage, dispatch_uid=PROMO_USAGE_SAVED_UID)
    post_delete.connect(coupon_usage_changed, sender=CouponUsage, dispatch_uid=PROMO_USAGE_DELETED_UID)


def basket_saved(sender, instance, raw=False, **kwargs):
    """A basket of a known shopper becomes a cart once the shopper pauses (CART_QUIET_SECONDS: each save pushes
    the send back, so filling a basket is one send); an ordered or deleted basket's cart goes at once. Anonymous
    baskets only matter if they were carts before. Runs in the storefront's request: one UPDATE, rarely two."""
    if raw or instance.shop_id not in recording_shop_ids():
        return
    if instance.deleted:
        record(instance.shop_id, SyncKind.CART, [instance.pk], only_known=True)
    else:
        state.record(instance.shop_id, SyncKind.CART, [instance.pk], only_known=not has_shopper(instance),
                     quiet_seconds=get_setting("CART_QUIET_SECONDS"))
        restored_from = (instance.data or {}).get(cart_links.RESTORED_FROM)
        if isinstance(restored_from, int) and instance.customer_id:
            # A restore link's copy for a logged-in shopper: the cart of the basket it copied goes if it was theirs.
            state.record(instance.shop_id, SyncKind.CART, [restored_from], only_known=True,
                         quiet_seconds=get_setting("CART_QUIET_SECONDS"))


def connect_receivers():
    for model in (PersonContact, CompanyContact):
        post_init.connect(contact_loaded, sender=model, dispatch_uid=CONTACT_LOADED_UID % model.__name__)
        pre_save.connect(contact_saving, sender=model, dispatch_uid=CONTACT_SAVING_UID % model.__name__)
        post_save.connect(contact_saved, sender=model, dispatch_uid=CONTACT_SAVED_UID % model.__name__)
        post_delete.connect(contact_deleted, sender=model, dispatch_uid=CONTACT_DELETED_UID % model.__name__)
    m2m_changed.connect(group_members_changed, sender=ContactGroup.members.through, dispatch_uid=GROUP_MEMBERS_UID)
    m2m_changed.connect(contact_shops_changed, sender=Contact.shops.through, dispatch_uid=CONTACT_SHOPS_UID)
    post_save.connect(group_saved, sender=ContactGroup, dispatch_uid=GROUP_SAVED_UID)
    post_save.connect(group_renamed, sender=ContactGroup._meta.get_field("translations").related_model,
                      dispatch_uid=GROUP_RENAMED_UID)
    post_delete.connect(group_deleted, sender=ContactGroup, dispatch_uid=GROUP_DELETED_UID)
    pre_delete.connect(group_deleting, sender=ContactGroup, dispatch_uid=GROUP_DELETING_UID)
    order_creator_finished.connect(order_created, dispatch_uid=ORDER_CREATED_UID)
    order_status_changed.connect(order_status_changed_receiver, dispatch_uid=ORDER_STATUS_UID)
    order_changed.connect(order_saved, dispatch_uid=ORDER_CHANGED_UID)
    anonymization_requested.connect(anonymization_requested_receiver, dispatch_uid=ANONYMIZATION_UID)
    pre_save.connect(product_saving, sender=Product, dispatch_uid=PRODUCT_SAVING_UID)
    post_save.connect(product_saved, sender=Product, dispatch_uid=PRODUCT_SAVED_UID)
    post_delete.connect(product_deleted, sender=Product, dispatch_uid=PRODUCT_DELETED_UID)
    post_save.connect(manufacturer_saved, sender=Manufacturer, dispatch_uid=MANUFACTURER_SAVED_UID)
    for model, receiver in ((Product, product_text_changed), (ShopProduct, shop_product_text_changed),
                            (Category, category_renamed)):
        translation = model._parler_meta.root_model
        post_save.connect(receiver, sender=translation, dispatch_uid=TEXT_SAVED_UID % model.__name__)
        post_delete.connect(receiver, sender=translation, dispatch_uid=TEXT_DELETED_UID % model.__name__)
    post_save.connect(shop_product_saved, sender=ShopProduct, dispatch_uid=SHOP_PRODUCT_SAVED_UID)
    post_delete.connect(shop_product_deleted, sender=ShopProduct, dispatch_uid=SHOP_PRODUCT_DELETED_UID)
    post_save.connect(product_media_changed, sender=ProductMedia, dispatch_uid=PRODUCT_MEDIA_SAVED_UID)
    post_delete.connect(product_media_changed, sender=ProductMedia, dispatch_uid=PRODUCT_MEDIA_DELETED_UID)
    m2m_changed.connect(product_media_shops_changed, sender=ProductMedia.shops.through,
                        dispatch_uid=PRODUCT_MEDIA_SHOPS_UID)
    stocks_updated.connect(stocks_updated_receiver, dispatch_uid=STOCKS_UPDATED_UID)
    if apps.is_installed("shuup.simple_supplier"):
        stock_count = apps.get_model("simple_supplier", "StockCount")
        post_init.connect(stock_count_loaded, sender=stock_count, dispatch_uid=STOCK_COUNT_LOADED_UID)
        post_save.connect(stock_count_saved, sender=stock_count, dispatch_uid=STOCK_COUNT_SAVED_UID)
    connect_promo_receivers()
    post_save.connect(basket_saved, sender=StoredBasket, dispatch_uid=BASKET_SAVED_UID)
    post_save.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVED_UID)
    post_delete.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_DELETED_UID)
