"""How often the newsletter block may be used: a fixed window per e-mail address and per client IP,
counted in Django's cache (limits in ``SIGNUP_LIMIT_PER_ADDRESS`` and ``SIGNUP_LIMIT_PER_IP``).

The client IP is ``REMOTE_ADDR``, never a forwarded header a client could forge; behind a reverse proxy
the deployment sets ``REMOTE_ADDR`` to the client's. An IPv6 client is counted by its /64 network: one
machine commonly holds a whole /64 and could otherwise take a new address for every attempt. Keys hold a
hash, not the address itself. The cache must be shared by the web processes (Redis, Memcached) for a limit
to hold across them.
"""
import hashlib
import ipaddress

from django.core.cache import cache

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.members import address_key

PER_ADDRESS = "SIGNUP_LIMIT_PER_ADDRESS"
PER_IP = "SIGNUP_LIMIT_PER_IP"
CACHE_KEY = "shoop_mailchimp:signup:%s:%s"


def allow_attempt(limit, value):
    """Count one attempt for ``value`` (an address or an IP) under ``limit``; False once over it. An address counts
    as the mailbox it reaches (:func:`mailbox_key`)."""
    attempts, seconds = get_setting(limit)
    counted = mailbox_key(value) if limit == PER_ADDRESS else value.strip().lower()
    key = CACHE_KEY % (limit, hashlib.sha256(counted.encode("utf-8")).hexdigest())
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, seconds)
        count = 1
    return count <= attempts


def mailbox_key(email):
    """The mailbox an address reaches, as the per-address limit counts it: the address Mailchimp mails
    (:func:`~shoop_mailchimp.mailchimp.members.address_key`: letter case, a domain in Unicode or punycode, a
    fullwidth letter), without a ``+tag`` (the sub-addresses most providers deliver to one mailbox) and, at Gmail
    (either of its domains), without dots in the local part (which Gmail ignores). Mailchimp keeps them apart as
    members; their owner gets them all."""
    key = address_key(email)
    local, at, domain = key.rpartition("@")
    if not at:
        return key
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", "") or local, GMAIL_DOMAINS[0]
    return "%s@%s" % (local, domain)


#: Gmail's domains (one mailbox under both), whose mailboxes ignore dots in the local part.
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def client_ip(request):
    """The client's address as the per-IP limit counts it: IPv4 as it is, IPv6 as its /64 network."""
    remote = request.META.get("REMOTE_ADDR") or ""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote or "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network("%s/64" % address, strict=False))
