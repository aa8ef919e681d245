"""Which shop data goes to which merge field of the audience, and each value in the form its field's type
takes. Pure functions, no I/O: the shop form, the merge field jobs and the contact plan share them.

A value Mailchimp would refuse (an incomplete address, a phone that is not one) is left out: the member is
still written, only that field keeps what Mailchimp had.
"""
import re
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

from django.utils.dateparse import parse_datetime
from django.utils.translation import ugettext_lazy as _

from shoop_mailchimp.sync.kinds.fields import clean_name

#: ``types``: the merge field types the value fits, the first being the type a created field gets.
ShopField = namedtuple("ShopField", "key label types tag")

SHOP_FIELDS = (
    ShopField("first_name", _("First name"), ("text",), "FNAME"),
    ShopField("last_name", _("Last name"), ("text",), "LNAME"),
    ShopField("company_name", _("Company name"), ("text",), "COMPANY"),
    ShopField("phone", _("Phone"), ("phone", "text"), "PHONE"),
    ShopField("birth_date", _("Birth date"), ("birthday", "date", "text"), "BIRTHDAY"),
    ShopField("billing_address", _("Default billing address"), ("address", "text"), "ADDRESS"),
    ShopField("shipping_address", _("Default shipping address"), ("address", "text"), "SHIPPING"),
    ShopField("language", _("Language"), ("text",), "LANGUAGE"),
    ShopField("groups", _("Contact groups"), ("text",), "GROUPS"),
    ShopField("customer_since", _("Customer since (first order)"), ("date", "text"), "SINCE"),
    ShopField("total_spent", _("Total spent"), ("number", "text"), "SPENT"),
)
BY_KEY = {field.key: field for field in SHOP_FIELDS}
#: Mapped without asking when the audience has a field of that tag and a fitting type (Mailchimp's own fields).
DEFAULT_KEYS = ("first_name", "last_name", "phone", "birth_date", "billing_address")
#: Facts only the shop knows (a person cannot fill them in Mailchimp): cleared when the shop has none.
SHOP_OWNED = frozenset({"groups", "customer_since", "total_spent"})
#: Before the audience's fields are read: what the shop always sent (Mailchimp ignores a tag it lacks).
UNREAD_MAP = {"first_name": {"tag": "FNAME", "type": "text"}, "last_name": {"tag": "LNAME", "type": "text"}}
#: Mailchimp's address parts that must all be filled, or the whole address is refused.
ADDRESS_REQUIRED = ("addr1", "city", "state", "zip")
MAX_TEXT_LENGTH = 255
PHONE_RE = re.compile(r"[\d\s()+.\-/x]+")
US_PHONE_RE = re.compile(r"\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}")
ZIP_RE = re.compile(r"\d{5}(-\d{4})?")
DATE_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY", "MM/DD", "DD/MM")


def audience_fields(configuration):
    """{tag: merge field} as last read from the audience, or None before the first read."""
    if configuration.audience_merge_fields is None:
        return None
    return {field["tag"]: field for field in configuration.audience_merge_fields}


def fits(key, field):
    return field is not None and field.get("type") in BY_KEY[key].types


def default_map(fields):
    """{shop field: tag} of the default fields the audience has."""
    return {key: BY_KEY[key].tag for key in DEFAULT_KEYS if fits(key, fields.get(BY_KEY[key].tag))}


def chosen_map(configuration):
    """{shop field: tag}: the admin's mapping, or the defaults until one is saved."""
    fields = audience_fields(configuration)
    if fields is None:
        return {key: field["tag"] for key, field in UNREAD_MAP.items()}
    if configuration.merge_field_map is None:
        return default_map(fields)
    return dict(configuration.merge_field_map)


def effective_map(configuration):
    """{shop field: merge field} that a member write fills: the chosen ones the audience has, of a fitting type."""
    fields = audience_fields(configuration)
    if fields is None:
        return dict(UNREAD_MAP)
    return {key: fields[tag] for key, tag in chosen_map(configuration).items()
            if key in BY_KEY and fits(key, fields.get(tag))}


def fields_to_clear(configuration):
    """{tag: when it was unmapped} of the fields the shop created and no longer fills, that the audience still
    has: a member written before that moment still holds the shop's last value, and is sent them empty."""
    fields = audience_fields(configuration)
    if not fields or not configuration.merge_fields_to_clear:
        return {}
    filled = {field["tag"] for field in effective_map(configuration).values()}
    return {tag: parse_datetime(since) for tag, since in configuration.merge_fields_to_clear.items()
            if tag in fields and tag not in filled and parse_datetime(since or "")}


def clear_values(clears, written_from):
    """{tag: ""} of the ``clears`` (see :func:`fields_to_clear`) a member still holds the shop's value of, its last
    write built at ``written_from`` (that send's claim: a write out during an unmapping lands after it with the
    old value): it is sent them empty once, and never again after that write."""
    return {tag: "" for tag, since in clears.items() if written_from is None or written_from < since}


def unmapped_created(configuration, before_tags, now):
    """The configuration's ``merge_fields_to_clear`` after a change of what member writes fill: a field the shop
    created, filled before (``before_tags``) and not now, is to be cleared from ``now``; one filled again no
    longer is."""
    created = set(configuration.created_merge_fields or ())
    filled = {field["tag"] for field in effective_map(configuration).values()}
    clears = {tag: since for tag, since in (configuration.merge_fields_to_clear or {}).items() if tag not in filled}
    for tag in (set(before_tags) & created) - filled:
        clears[tag] = now.isoformat()
    return clears or None


def missing_fields(configuration):
    """The shop fields a job could create a merge field for: unmapped, and no field of the audience has their tag."""
    fields = audience_fields(configuration)
    if fields is None:
        return []
    mapped = effective_map(configuration)
    return [field for field in SHOP_FIELDS if field.key not in mapped and field.tag not in fields]


def creation_body(key):
    """The POST /lists/{id}/merge-fields body of a field for this shop data."""
    field = BY_KEY[key]
    body = {"tag": field.tag, "name": str(field.label), "type": field.types[0], "required": False, "public": False}
    if field.types[0] == "birthday":
        body["options"] = {"date_format": "MM/DD"}
    return body


def merge_values(mapping, values, places=2):
    """{tag: value} for a member write. ``values``: {shop field: the shop's value or None}; an amount is rounded
    to ``places`` decimal places (the shop currency's, as its orders are sent). A value the field's type cannot
    take is left out. A missing value clears a field only the shop fills (SHOP_OWNED); any other
    is left out: the person may have filled it in Mailchimp (a profile form), and the shop not knowing their
    phone is no reason to erase it."""
    merged = {}
    for key, field in mapping.items():
        value = values.get(key)
        if value is None or value == "":
            if key in SHOP_OWNED:
                merged[field["tag"]] = ""
            continue
        converted = convert(value, field, places)
        if converted is not None:
            merged[field["tag"]] = converted
    return merged


def filled_field_ids(mapping, merged):
    """{tag: merge id} of the fields a member write fills with a value (``merged``, from :func:`merge_values`), as
    the audience's fields were read: Mailchimp holds the value in that very field. A field deleted in Mailchimp and
    made again, even with the same tag and type, has a new merge id and holds no value. Empty before the fields
    are read (or read without their ids)."""
    return {field["tag"]: field["merge_id"] for field in mapping.values()
            if field.get("merge_id") is not None and merged.get(field["tag"]) not in (None, "")}


def convert(value, field, places=2):
    """``value`` (text, a date, a Decimal amount rounded to ``places`` decimal places, or address parts) as the
    merge field's type takes it, or None when that type cannot take it."""
    kind, options = field.get("type"), field.get("options") or {}
    is_date = hasattr(value, "strftime")
    if kind == "address":
        return address_value(value) if isinstance(value, dict) else None
    if kind in ("birthday", "date"):
        default = "MM/DD" if kind == "birthday" else "MM/DD/YYYY"
        return date_text(value, options.get("date_format"), default) if is_date else None
    if kind == "number":
        return float(rounded(value, places)) if isinstance(value, Decimal) else None
    if isinstance(value, dict):
        text = as_text(one_line(value))
    elif is_date:
        text = value.isoformat()
    else:
        text = as_text(str(rounded(value, places) if isinstance(value, Decimal) else value))
    if kind == "phone":
        return phone_value(text, options.get("phone_format"))
    if kind == "zip":
        return text if ZIP_RE.fullmatch(text) else None
    if kind in ("radio", "dropdown"):
        return text if text in (options.get("choices") or []) else None
    return text


def date_text(value, date_format, default):
    """A date in the field's format ("MM/DD", "DD/MM/YYYY"…), the year in four digits (strftime gives "999")."""
    date_format = date_format if date_format in DATE_FORMATS else default
    return date_format.replace("YYYY", "%04d" % value.year).replace("MM", "%02d" % value.month).replace(
        "DD", "%02d" % value.day)


def rounded(amount, places):
    """An amount to the currency's ``places`` (1.235 KWD stays 1.235, 10.005 EUR is 10.01), half up as orders."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def as_text(value):
    return clean_name(value)[:MAX_TEXT_LENGTH]


def phone_value(text, phone_format):
    if phone_format == "US":
        ok = US_PHONE_RE.fullmatch(text) and len(re.sub(r"\D", "", text)) == 10
    else:
        ok = PHONE_RE.fullmatch(text) and re.search(r"\d", text)
    return text if ok else None


def address_value(address):
    """Mailchimp's address object, or None when a part it requires is empty or blank (it would refuse the member)."""
    parts = {part: value.strip() if isinstance(value, str) else value for part, value in address.items()}
    if not all(parts.get(part) for part in ADDRESS_REQUIRED):
        return None
    return {part: value for part, value in parts.items() if value}


def one_line(address):
    parts = (address.get("addr1"), address.get("addr2"), address.get("city"),
             " ".join(filter(None, (address.get("state"), address.get("zip")))), address.get("country"))
    return ", ".join(part for part in parts if part)


def address_parts(address):
    """A Shuup address as Mailchimp's address parts (empty ones included), or None without an address."""
    if address is None:
        return None
    return {
        "addr1": clean_name(address.street),
        "addr2": clean_name(address.street2),
        "city": clean_name(address.city),
        "state": clean_name(address.region) or clean_name(address.region_code),
        "zip": clean_name(address.postal_code),
        "country": str(address.country.code) if address.country else "",
    }
