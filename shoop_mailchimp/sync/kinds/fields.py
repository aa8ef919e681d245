"""Shuup values as Mailchimp fields: names, addresses, e-mail addresses, texts, amounts of money. Pure functions,
no I/O (but :func:`currency_places`, which reads Shuup's cached currency precision)."""
import html
import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision as iso_currency_places
from django.utils.html import strip_tags
from shuup.core.models import CompanyContact, PersonContact, get_currency_precision

from shoop_mailchimp.mailchimp.members import mailchimp_email

#: Names are cut to stay within Mailchimp's field limits.
MAX_NAME_LENGTH = 255
#: Kinds of contact, for a Shuup contact or data loaded without one (``ContactData.kind``).
PERSON, COMPANY = "person", "company"

__all__ = ["COMPANY", "PERSON", "address_payload", "clean_name", "contact_kind", "contact_names", "mailchimp_email",
           "currency_places", "money", "plain_text"]
#: Markup whose content is no text: a script, a style sheet, an HTML comment.
_NO_TEXT = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
#: Tags that separate words on a page (a paragraph, a line break, a list item, a cell).
_BREAKS = re.compile(r"<(?=/?(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section)\b)", re.IGNORECASE)


def clean_name(value):
    return (value or "").strip()[:MAX_NAME_LENGTH]


def contact_names(contact):
    """(first name, last name, company) as Mailchimp should see them. A company's name is also its
    first name, so that a campaign's greeting ("Hi *|FNAME|*") reads well."""
    kind = contact_kind(contact)
    if kind == PERSON:
        first, last = clean_name(contact.first_name), clean_name(contact.last_name)
        if not (first or last) and contact.name:
            first, _, last = clean_name(contact.name).partition(" ")
        return first, last, ""
    if kind == COMPANY:
        return clean_name(contact.name), "", clean_name(contact.name)
    return clean_name(contact.name), "", ""


def contact_kind(contact):
    if isinstance(contact, PersonContact):
        return PERSON
    if isinstance(contact, CompanyContact):
        return COMPANY
    return getattr(contact, "kind", "")


def address_payload(address):
    if address is None:
        return None
    data = {
        "address1": clean_name(address.street),
        "address2": clean_name(address.street2),
        "city": clean_name(address.city),
        "province": clean_name(address.region),
        "province_code": clean_name(address.region_code),
        "postal_code": clean_name(address.postal_code),
        "country_code": str(address.country.code) if address.country else "",
    }
    return {key: value for key, value in data.items() if value} or None


def plain_text(markup, limit, clipped_at=None):
    """HTML (a description, as Shuup's editor saves it) as one line of plain text of at most ``limit``
    characters, cut at a word with an ellipsis. ``clipped_at``: the length at which the HTML was read, when
    it may be the start of a longer text (a tag cut in the middle is left out, not shown)."""
    markup = markup or ""
    if clipped_at and len(markup) >= clipped_at:
        start = markup.rfind("<")
        if start > markup.rfind(">"):
            markup = markup[:start]
    text = " ".join(html.unescape(strip_tags(_BREAKS.sub(" <", _NO_TEXT.sub(" ", markup)))).split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "\u2026"


def currency_places(code):
    """The decimal places of a currency, as Shuup rounds it: the ``decimal_places`` of its Shuup currency (3
    for the Kuwaiti dinar, 0 for the yen where the shop says so), else ISO 4217's, else 2."""
    precision = get_currency_precision(code) if code else None
    if precision is not None:
        return max(0, -precision.as_tuple().exponent)
    return iso_currency_places(code) if code else 2


def money(value, places=2, rounding=ROUND_HALF_UP):
    """An amount (a Decimal, a number, a Shuup price or money) as Mailchimp's number, rounded to ``places``
    decimal places (see :func:`currency_places`): half up for orders and carts (what was charged); a product's
    price passes ``ROUND_HALF_EVEN``, as the storefront shows it (see :mod:`.product`)."""
    value = getattr(value, "value", value)
    if value is None:
        value = 0
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return float(amount.quantize(Decimal(1).scaleb(-places), rounding=rounding))
