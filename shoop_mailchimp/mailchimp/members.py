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


def subscriber_hash(email):
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()
