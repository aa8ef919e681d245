"""List members: the statuses Mailchimp gives a member, and how an e-mail address is named to Mailchimp."""
import hashlib

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
CLEANED = "cleaned"
PENDING = "pending"
TRANSACTIONAL = "transactional"
ARCHIVED = "archived"
#: What the shop records when it erased the person from Mailchimp.
ERASED = "erased"


def mailchimp_email(email):
    """The address as Mailchimp accepts it: stripped, an internationalized domain in its ASCII (punycode) form.

    Mailchimp refuses non-ASCII domains; the punycode form reaches the same mailbox.
    """
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        return "%s@%s" % (local, domain.encode("idna").decode("ascii"))
    except UnicodeError:
        return email


def address_key(email):
    """One form of an address to compare: stripped, lowercased, an internationalized domain in its ASCII
    (punycode) form, as Mailchimp gets it ("vera@bücher.de" and "vera@xn--bcher-kva.de" are one address; so are
    "vera@ｆastmail.com", with a fullwidth letter IDNA maps to ASCII, and "vera@fastmail.com")."""
    return mailchimp_email(email).lower()


def address_forms(email):
    """The lowercased forms an address may be stored under in the shop: as typed, with its domain in punycode,
    and with its domain in Unicode. Compared with a lowercased column (``Lower("email")``) of the addresses the shop
    sent (``SyncState.email``); the shop's contacts and orders are compared by their stored address keys
    (:func:`shoop_mailchimp.shops.shop_contacts_with_keys`), which find every stored spelling."""
    key = address_key(email)
    forms = {email.strip().lower(), key}
    local, at, domain = key.rpartition("@")
    if at:
        try:
            forms.add("%s@%s" % (local, domain.encode("ascii").decode("idna")))
        except UnicodeError:
            pass
    return forms


def subscriber_hash(email):
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()
