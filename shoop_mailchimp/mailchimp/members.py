"""List members: the statuses Mailchimp gives a member, and how an e-mail address is named to Mailchimp."""
import hashlib

import idna

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
CLEANED = "cleaned"
PENDING = "pending"
TRANSACTIONAL = "transactional"
ARCHIVED = "archived"
#: What the shop records when it erased the person from Mailchimp.
ERASED = "erased"


def ascii_domain(domain):
    """An internationalized domain in its ASCII (punycode) form, as mail reaches it: IDNA 2008 with UTS 46
    non-transitional processing (what DENIC, browsers and current mail software use), so ``straße.de`` is
    ``xn--strae-oqa.de`` (not IDNA 2003's ``strasse.de``, another domain), a final sigma and a joiner where IDNA 2008
    allows them are kept; the UTS 46 mapping lowercases, composes (NFC) and maps fullwidth letters and the ideographic
    full stop. Raises :class:`UnicodeError` (an ``idna.IDNAError``) when IDNA 2008 refuses the domain (a symbol such as
    ``☃``, a joiner out of its context, a label too long)."""
    return idna.encode(domain, uts46=True, transitional=False).decode("ascii")


def domain_problem(email):
    """Why the domain of this address cannot be named to Mailchimp (IDNA 2008 refuses it), else ``""``. An ASCII
    domain is Mailchimp's to judge."""
    local, at, domain = (email or "").strip().rpartition("@")
    if not at or domain.isascii():
        return ""
    try:
        ascii_domain(domain)
    except UnicodeError as error:
        return str(error) or error.__class__.__name__
    return ""


def mailchimp_email(email):
    """The address as Mailchimp accepts it: stripped, an internationalized domain in its ASCII (punycode) form
    (:func:`ascii_domain`).

    Mailchimp refuses non-ASCII domains; the punycode form reaches the same mailbox. A domain IDNA 2008 refuses is
    left as typed: it is not a mailbox anybody can have, and Mailchimp refuses it as an invalid address (the contact's
    sync fails with that reason), rather than a mailbox of another domain being sent.
    """
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        return "%s@%s" % (local, ascii_domain(domain))
    except UnicodeError:
        return email


def address_key(email):
    """One form of an address to compare: stripped, lowercased, an internationalized domain in its ASCII
    (punycode) form, as Mailchimp gets it ("vera@bücher.de" and "vera@xn--bcher-kva.de" are one address; so are
    "vera@ｆastmail.com", with a fullwidth letter UTS 46 maps to ASCII, and "vera@fastmail.com"; "anna@straße.de"
    and "anna@strasse.de" are two)."""
    return mailchimp_email(email).lower()


def address_forms(email):
    """The lowercased forms an address may be stored under in the shop: as typed, with its domain in punycode,
    and with its domain in Unicode. Compared with a lowercased column (``Lower("email")``) of the addresses the shop
    sent (``SyncState.email``); the shop's contacts and orders are compared by their stored address keys
    (:func:`shoop_mailchimp.shops.shop_contacts_with_keys`), which find every stored spelling."""
    key = address_key(email)
    forms = {email.strip().lower(), key}
    local, at, domain = key.rpartition("@")
    if at and domain.isascii():
        try:
            forms.add("%s@%s" % (local, idna.decode(domain)))
        except UnicodeError:
            pass
    return forms


def subscriber_hash(email):
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()
