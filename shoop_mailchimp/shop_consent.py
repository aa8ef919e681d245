"""Where a contact's consent counts. Shuup keeps one ``Contact.marketing_permission`` for all shops, but a
consent given in one shop's storefront (the newsletter block, the registration box, the account page) or
confirmed from one shop's audience is that shop's alone: a press on shop A's block must not subscribe the
address in shop B. Such a consent is written down here (:class:`~shoop_mailchimp.models.ShopConsent`), and every
reading of consent for a shop (a contact's send one by one or in a batch, a cart, an order, the account page)
asks :func:`withheld` which contacts' permission does not count there.

- A consent given in one shop, where the contact had none: it counts in that shop only.
- A consent given in one more shop, where it counted in other shops only: it counts there too.
- A consent given where no shop is named (the admin's contact form, a checkout's box): it counts in every shop.
- A withdrawal counts in every shop; what is written here then no longer matters (a consent given next says
  where it counts again).

Also whose address is proven (:class:`~shoop_mailchimp.models.ProvenAddress`): a consent given in a storefront
shows its owner's wish only for an address they proved theirs (the account activated through the link mailed to
it). For any other address the consent is sent as one typed into the newsletter block (``ConsentRequest.SIGNUP``:
a member Mailchimp already holds of the address is asked to confirm first).
"""
from shoop_mailchimp.models import ProvenAddress, ShopConsent, SyncKind
from shoop_mailchimp.shops import shop_contacts_with_address
from shoop_mailchimp.sync import state


def given_in_shop(shop_id, contact_id, fresh):
    """Consent given for the contact in this shop alone. ``fresh``: the contact had no consent before (it
    counts here only); otherwise it also counts where it counted already (everywhere when it did)."""
    if fresh:
        ShopConsent.objects.filter(contact_id=contact_id).exclude(shop_id=shop_id).delete()
    elif not ShopConsent.objects.filter(contact_id=contact_id).exists():
        return  # counted in every shop already
    ShopConsent.objects.get_or_create(contact_id=contact_id, shop_id=shop_id)


def given_everywhere(contact_ids):
    """Consent given where no shop is named: it counts in every shop."""
    ShopConsent.objects.filter(contact_id__in=list(contact_ids)).delete()


def withheld(shop_id, contact_ids=None):
    """The contacts (of ``contact_ids``; None: all) whose consent was given in other shops only: their
    marketing permission is no consent in this shop."""
    rows = ShopConsent.objects.all() if contact_ids is None else ShopConsent.objects.filter(
        contact_id__in=list(contact_ids))
    scoped = {}
    for contact_id, scope_shop_id in rows.values_list("contact_id", "shop_id"):
        scoped.setdefault(contact_id, set()).add(scope_shop_id)
    return {contact_id for contact_id, shop_ids in scoped.items() if shop_id not in shop_ids}


def consents_in(shop_id, contact):
    """Whether the contact consents in this shop."""
    return bool(contact.marketing_permission) and contact.pk not in withheld(shop_id, [contact.pk])


def normalised(email):
    return (email or "").strip().lower()


def record_proof(contact_id, email):
    """The contact's owner proved the address theirs (they clicked the activation link mailed to it). The contact's
    rows are queued in every shop: a member its sends were kept off (``SyncState.foreign_member``) is its own now,
    and its next send writes the contact's data there; the address's other contacts of those shops no longer take
    it as theirs. Returns the ids of the shops where a row is due."""
    if not normalised(email):
        return set()
    ProvenAddress.objects.update_or_create(contact_id=contact_id, defaults={"email": normalised(email)})
    shop_ids = state.shops_with_rows(SyncKind.CONTACT, [contact_id])
    for shop_id in shop_ids:
        # The address's other contacts (a stranger's account whose send created the member) no longer own it.
        others = shop_contacts_with_address(shop_id, email).exclude(pk=contact_id).values_list("pk", flat=True)
        state.proven_anothers(shop_id, SyncKind.CONTACT, others)
    return state.record_in_shops(shop_ids, SyncKind.CONTACT, [contact_id])


def address_proven(contact, owner_ids=()):
    """Whether the contact's current address is one its owner proved: theirs, or that of a contact of the same
    owner (``owner_ids``: a one-person business gives the company its member's address), compared
    case-insensitively."""
    email = normalised(contact.email)
    return bool(email) and ProvenAddress.objects.filter(
        contact_id__in={contact.pk} | set(owner_ids), email=email).exists()
