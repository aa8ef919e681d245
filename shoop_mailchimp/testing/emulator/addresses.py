"""The emulator's deterministic stand-in for Mailchimp's "looks fake or invalid" refusal.

Mailchimp does not publish its rule. Refusals seen in the wild include ``fooboo@example.com``,
``sample@email.tst`` and ``xxx@trash-mail.com`` (answered 400 "Invalid Resource",
"<email> looks fake or invalid, please enter a real email address."). The emulator refuses an
address when, case-insensitively:

- its domain is, or is a subdomain of, one in :data:`FAKE_DOMAINS` (the reserved example domains,
  placeholder domains and throwaway-mail services), or
- its top-level domain is in :data:`FAKE_TLDS` (reserved by RFC 2606 / RFC 6761, or not a real
  top-level domain), or
- its local part (before any ``+tag``) is in :data:`FAKE_LOCAL_PARTS`.

Anything else passes, so realistic test data (``ann.smith@gmail.com``, Faker's addresses,
Shuup's ``user1@example.shuup.com``) is accepted. ``docs/emulator.rst`` repeats this rule.

Internationalized domains, as the shop assumes Mailchimp treats them (not verified against Mailchimp): an address
is taken only with an ASCII domain, a non-ASCII one (``anna@straße.de``) is refused as "Please provide a valid email
address." (``resources/lists.py``, ``check_email``); a punycode domain, top-level domain included
(``kontakt@xn--e1afmkfd.xn--p1ai`` for пример.рф), is taken and kept as sent, never decoded nor folded (IDNA 2003's
``anna@strasse.de`` and IDNA 2008's ``anna@xn--strae-oqa.de`` are two members); the subscriber hash is the MD5 of the
lower-cased address as sent. The shop converts a Unicode domain with IDNA 2008 (UTS 46 non-transitional) before
sending (``shoop_mailchimp.mailchimp.members.mailchimp_email``).
"""

FAKE_DOMAINS = frozenset(
    {
        "example.com",
        "example.net",
        "example.org",
        "test.com",
        "fake.com",
        "asdf.com",
        "qwerty.com",
        "mailinator.com",
        "trash-mail.com",
        "yopmail.com",
        "guerrillamail.com",
        "10minutemail.com",
    }
)
FAKE_TLDS = frozenset({"test", "example", "invalid", "localhost", "local", "tst"})
FAKE_LOCAL_PARTS = frozenset({"test", "testing", "asdf", "qwerty", "fake", "sample", "example", "noemail"})


def looks_fake(email):
    local, _, domain = email.strip().lower().rpartition("@")
    if not local or not domain:
        return False
    labels = domain.split(".")
    if labels[-1] in FAKE_TLDS:
        return True
    if any(".".join(labels[i:]) in FAKE_DOMAINS for i in range(len(labels) - 1)):
        return True
    return local.split("+", 1)[0] in FAKE_LOCAL_PARTS


def fake_detail(email):
    return f"{email} looks fake or invalid, please enter a real email address."
