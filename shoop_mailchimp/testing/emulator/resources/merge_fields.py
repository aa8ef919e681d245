"""An audience's merge fields, and the checks Mailchimp makes on the merge fields of member writes."""

import copy
import datetime
import re

from .. import rules
from ..errors import ApiError, invalid, not_found, require
from .registry import handles, merge, page

MERGE_FIELDS_INVALID = "Your merge fields were invalid."
#: Messages Mailchimp answers in ``errors`` (seen in its responses, except those marked unverified).
MESSAGES = {
    "required": "Please enter a value",
    "address": "Please enter a complete address",
    "birthday": "Please enter a month (01-12) and a day (01-31)",
    "date": "Please enter the date",
    # Unverified wordings (no Mailchimp response found): faithful paraphrases.
    "number": "Please enter a number",
    "phone": "Please enter a valid phone number",
    "zip": "Please enter a valid zip code",
    "choice": "Please choose one of the options",
    "text": "Please enter a value",
    "too_long": "Please enter a value of 255 characters or fewer",
}
#: What a text audience field holds (Mailchimp's audience fields guide).
TEXT_LIMIT = 255
#: Audience fields an audience holds, the defaults included (30 on most plans, 80 on Premium; reported by users of
#: integrations and third-party guides, no Mailchimp response seen: the wording below is a paraphrase).
MERGE_FIELD_LIMIT = 30
ADDRESS_REQUIRED = ("addr1", "city", "state", "zip")
TAG_RE = re.compile(r"^[A-Z0-9_]{1,10}$")


def _field(ctx, lst):
    try:
        merge_id = int(ctx.params["mergeId"])
    except ValueError:
        raise not_found()
    field = lst.merge_fields.get(merge_id)
    if field is None:
        raise not_found()
    return field


def field_json(field):
    return copy.deepcopy(field)


@handles("GET", "/lists/{listId}/merge-fields")
def list_merge_fields(ctx):
    lst = ctx.mailing_list()
    fields = list(lst.merge_fields.values())
    if ctx.query.get("type"):
        fields = [f for f in fields if f["type"] == ctx.query["type"]]
    if ctx.query.get("required") in ("true", "false"):
        fields = [f for f in fields if f["required"] == (ctx.query["required"] == "true")]
    return page(fields, ctx.query, "merge_fields", list_id=lst.id)


@handles("POST", "/lists/{listId}/merge-fields")
def create_merge_field(ctx):
    lst = ctx.mailing_list()
    require(ctx.body, "name", "type")
    tag = ctx.body.get("tag")
    if tag is not None:
        tag = str(tag).upper()
        if not TAG_RE.match(tag):
            raise invalid(
                "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
                errors=[{"field": "tag", "message": "Merge tags are up to 10 letters, digits or underscores."}],
            )
        if lst.merge_field_by_tag(tag):
            # Unverified wording: a faithful paraphrase.
            raise invalid(f'A Merge Field with the tag "{tag}" already exists for this list.')
    if len(lst.merge_fields) >= MERGE_FIELD_LIMIT:
        raise invalid(f"This audience already has the most audience fields it can have ({MERGE_FIELD_LIMIT}).")
    return field_json(lst.add_merge_field(dict(ctx.body, tag=tag)))


@handles("GET", "/lists/{listId}/merge-fields/{mergeId}")
def get_merge_field(ctx):
    return field_json(_field(ctx, ctx.mailing_list()))


@handles("PATCH", "/lists/{listId}/merge-fields/{mergeId}")
def patch_merge_field(ctx):
    lst = ctx.mailing_list()
    field = _field(ctx, lst)
    tag = str(ctx.body.get("tag") or field["tag"]).upper()
    if tag != field["tag"] and lst.merge_field_by_tag(tag):
        raise invalid(f'A Merge Field with the tag "{tag}" already exists for this list.')
    old_tag = field["tag"]
    merge(field, ctx.body, exclude=("merge_id", "list_id", "type", "tag"))
    field["tag"] = tag
    if tag != old_tag:
        for member in lst.members.values():
            if old_tag in member["merge_fields"]:
                member["merge_fields"][tag] = member["merge_fields"].pop(old_tag)
    return field_json(field)


@handles("DELETE", "/lists/{listId}/merge-fields/{mergeId}")
def delete_merge_field(ctx):
    lst = ctx.mailing_list()
    field = _field(ctx, lst)
    del lst.merge_fields[field["merge_id"]]
    for member in lst.members.values():
        member["merge_fields"].pop(field["tag"], None)
    return 204, None


# Member writes -----------------------------------------------------------------------------------


def _empty(value):
    return value is None or value == "" or value == {}


DATE_FORMATS = {"MM/DD/YYYY": "%m/%d/%Y", "DD/MM/YYYY": "%d/%m/%Y", "MM/DD": "%m/%d", "DD/MM": "%d/%m"}


def _valid_date(text, fmt):
    """A date in the field's format (dates also take ISO ``YYYY-MM-DD``)."""
    if "YYYY" in fmt:
        candidates = [DATE_FORMATS.get(fmt, "%m/%d/%Y"), "%Y-%m-%d"]
    else:  # a birthday, parsed within a leap year so that 02/29 passes
        text, candidates = text + "/2000", [DATE_FORMATS.get(fmt, "%m/%d") + "/%Y"]
    for candidate in candidates:
        try:
            datetime.datetime.strptime(text, candidate)
        except ValueError:
            continue
        return True
    return False


def value_error(field, value):
    """The message Mailchimp gives for ``value`` in ``field``, or None if it is accepted."""
    kind = field["type"]
    options = field.get("options") or {}
    if kind == "address":
        ok = isinstance(value, dict) and all(
            isinstance(value.get(k), str) and value[k].strip() for k in ADDRESS_REQUIRED
        )
        return None if ok else MESSAGES["address"]
    if isinstance(value, (dict, list, bool)):
        return MESSAGES.get(kind, MESSAGES["text"])
    text = str(value).strip()
    if kind == "number":
        try:
            float(text)
        except ValueError:
            return MESSAGES["number"]
        return None
    if kind == "birthday":
        ok = re.fullmatch(r"\d{2}/\d{2}", text) and _valid_date(text, options.get("date_format", "MM/DD"))
        return None if ok else MESSAGES["birthday"]
    if kind == "date":
        return None if _valid_date(text, options.get("date_format", "MM/DD/YYYY")) else MESSAGES["date"]
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        if options.get("phone_format") == "US":
            ok = len(digits) == 10 and re.fullmatch(r"\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}", text)
        else:
            ok = digits and re.fullmatch(r"[\d\s()+.\-/x]+", text)
        return None if ok else MESSAGES["phone"]
    if kind == "zip":
        return None if re.fullmatch(r"\d{5}(-\d{4})?", text) else MESSAGES["zip"]
    if kind in ("radio", "dropdown"):
        choices = options.get("choices") or []
        return None if text in choices else MESSAGES["choice"]
    return MESSAGES["too_long"] if len(text) > TEXT_LIMIT else None


def member_merge_fields(ctx, lst, stored, given, creating):
    """The merge fields a member write leaves on the member, as Mailchimp decides them.

    With the ``merge_fields`` rule off, the emulator is lenient: it keeps whatever was sent.
    With it on: unknown tags are dropped silently; a value of the wrong type fails; a required
    field left empty fails (on create, and on updates that send merge fields) unless the request
    has ``?skip_merge_validation=true``; a field's ``default_value`` fills it on create.
    """
    given = given or {}
    if not rules.is_on(ctx.emulator, ctx.account, lst, rules.MERGE_FIELDS):
        result = copy.deepcopy(stored)
        result.update(copy.deepcopy(given))
        return result
    result = {tag: value for tag, value in stored.items() if lst.merge_field_by_tag(tag)}
    errors = []
    for tag, value in given.items():
        field = lst.merge_field_by_tag(tag)
        if field is None:
            continue  # Mailchimp ignores merge tags the audience does not have.
        if _empty(value):
            result.pop(tag, None)
            continue
        message = value_error(field, value)
        if message:
            errors.append({"field": tag, "message": message})
        else:
            result[tag] = copy.deepcopy(value)
    for field in lst.merge_fields.values():
        if creating and _empty(result.get(field["tag"])) and field.get("default_value"):
            result[field["tag"]] = field["default_value"]
    skip = str(ctx.query.get("skip_merge_validation", "")).lower() == "true"
    if not skip and (creating or given):
        for field in lst.merge_fields.values():
            if field["required"] and _empty(result.get(field["tag"])):
                if not any(e["field"] == field["tag"] for e in errors):
                    errors.append({"field": field["tag"], "message": MESSAGES["required"]})
    if errors:
        raise ApiError(400, MERGE_FIELDS_INVALID, errors=errors)
    return result


def customer_merge_fields(ctx, lst, customer):
    """FNAME/LNAME for a member an e-commerce customer creates (only tags the audience has)."""
    names = {"FNAME": customer.get("first_name") or "", "LNAME": customer.get("last_name") or ""}
    names = {tag: value for tag, value in names.items() if value}
    if rules.is_on(ctx.emulator, ctx.account, lst, rules.MERGE_FIELDS):
        names = {tag: value for tag, value in names.items() if lst.merge_field_by_tag(tag)}
    return names
