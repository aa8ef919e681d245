"""Ping, lists (audiences), members, tags, interest categories, interests and webhooks."""

import copy
import datetime
import ipaddress
import re
import urllib.parse

import requests

from .. import rules
from ..addresses import fake_detail, looks_fake
from ..errors import ApiError, invalid, not_found, require
from ..state import DEFAULT_MARKETING_PERMISSIONS, MailingList, now_iso, random_hex, subscriber_hash
from .merge_fields import member_merge_fields
from .registry import handles, merge, page

#: An address Mailchimp takes (see ``addresses.py``, "Internationalized domains"): an ASCII domain of letters,
#: digits and hyphens whose top-level domain is letters or, for an internationalized one (``.рф``), its punycode
#: A-label (``xn--p1ai``); a non-ASCII domain is refused.
EMAIL_RE = re.compile(
    r"^[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.(?:[A-Za-z]{2,}|[Xx][Nn]--[A-Za-z0-9-]*[A-Za-z0-9])$"
)
MEMBER_FIELDS = (
    "email_type",
    "language",
    "vip",
    "location",
    "ip_signup",
    "timestamp_signup",
    "ip_opt",
    "timestamp_opt",
)


def check_email(email):
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
        raise invalid(
            "Please provide a valid email address.",
            errors=[{"field": "email_address", "message": "Please provide a valid email address."}],
        )
    return email.strip()


#: Statuses Mailchimp calls a compliance state: the member cannot be subscribed again by the API.
COMPLIANCE_STATUSES = ("unsubscribed", "cleaned")
#: Mailchimp's cap on interests (groups) in one audience, all categories together.
MAX_INTERESTS = 60


def rule_on(ctx, lst, rule):
    return rules.is_on(ctx.emulator, ctx.account, lst, rule)


def check_not_fake(ctx, lst, email):
    """Mailchimp refuses, per address, those that look fake (see addresses.py)."""
    if rule_on(ctx, lst, rules.FAKE_EMAILS) and looks_fake(email):
        raise invalid(fake_detail(email))


def compliance_error(email):
    return ApiError(
        400,
        f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review "
        "and cannot be subscribed.",
        title="Member In Compliance State",
    )


def in_compliance_state(lst, member):
    status = member["status"]
    if status == "archived":
        status = lst.archived_status.get(member["id"])
    return status in COMPLIANCE_STATUSES


def check_can_subscribe(ctx, lst, member):
    """Raise Mailchimp's 400 when subscribing ``member`` is refused: ``pending`` is the way back."""
    if member is not None and in_compliance_state(lst, member) and rule_on(ctx, lst, rules.COMPLIANCE_STATE):
        raise compliance_error(member["email_address"])


def change_status(ctx, lst, member, status):
    """Set a status through the API: compliance checked, a confirmation e-mail recorded for ``pending`` (also
    for a member pending already: asking ``pending`` again mails the link again)."""
    if status == member["status"]:
        if status == "pending":
            record_confirmation(ctx, lst, member)
        return
    if status == "subscribed":
        check_can_subscribe(ctx, lst, member)
    lst.archived_status.pop(member["id"], None)
    set_status(member, status)
    if status == "pending":
        record_confirmation(ctx, lst, member)


def record_confirmation(ctx, lst, member):
    """Mailchimp mails an opt-in confirmation to a member who becomes ``pending``."""
    ctx.account.confirmations.append(
        {"list_id": lst.id, "email_address": member["email_address"], "member_id": member["id"], "at": now_iso()}
    )


def forgotten_error(email):
    return ApiError(
        400,
        f"{email} was permanently deleted and cannot be re-imported. The contact must re-subscribe "
        "to get back on the list.",
        title="Forgotten Email Not Subscribed",
    )


@handles("GET", "/ping")
def ping(ctx):
    return {"health_status": "Everything's Chimpy!"}


@handles("GET", "/lists")
def list_lists(ctx):
    return page((lst.to_json() for lst in ctx.account.lists.values()), ctx.query, "lists")


@handles("POST", "/lists")
def create_list(ctx):
    require(ctx.body, "name", "contact", "permission_reminder", "campaign_defaults")
    permissions = DEFAULT_MARKETING_PERMISSIONS if ctx.body.get("marketing_permissions") else ()
    lst = MailingList(random_hex(10), ctx.body["name"], marketing_permissions=permissions)
    merge(lst.data, ctx.body, exclude=("id", "stats", "marketing_permissions"))
    ctx.account.lists[lst.id] = lst
    return lst.to_json()


@handles("GET", "/lists/{listId}")
def get_list(ctx):
    return ctx.mailing_list().to_json()


# Members -----------------------------------------------------------------------------------------


def _check_interests(lst, interests):
    known = set(lst.interest_ids())
    for interest_id in interests or {}:
        if interest_id not in known:
            raise invalid(
                f"Invalid interest ID: '{interest_id}'.",
                errors=[{"field": "interests", "message": f"Invalid interest ID: '{interest_id}'."}],
            )


def new_member(ctx, lst, email, status, body=None, validate=True):
    """Build and store a member; shared with the e-commerce customer rules.

    ``validate`` is False for members the e-commerce endpoints add (they take no merge fields
    from the request, only the customer's names).
    """
    body = body or {}
    stamp = now_iso()
    member = {
        "id": subscriber_hash(email),
        "email_address": email,
        "unique_email_id": random_hex(10),
        "contact_id": random_hex(32),
        "full_name": "",
        "web_id": int(random_hex(8), 16),
        "email_type": "html",
        "status": status,
        "merge_fields": {},
        "interests": {},
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": "",
        "ip_opt": "",
        "timestamp_opt": stamp if status == "subscribed" else "",
        "member_rating": 2,
        "last_changed": stamp,
        "language": "",
        "vip": False,
        "email_client": "",
        "location": {
            "latitude": 0,
            "longitude": 0,
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": "",
            "timezone": "",
            "region": "",
        },
        "source": "API - Generic",
        "tags": [],
        "list_id": lst.id,
    }
    apply_member_changes(ctx, lst, member, body, creating=True, validate=validate)
    lst.archived_status.pop(member["id"], None)
    lst.members[member["id"]] = member
    if status == "pending":
        record_confirmation(ctx, lst, member)
    return member


def _marketing_permissions(ctx, lst, member, given):
    """The member's permissions after a write; None leaves the member without the key."""
    if not rule_on(ctx, lst, rules.MARKETING_PERMISSIONS):
        return copy.deepcopy(given) if given is not None else member.get("marketing_permissions")
    if not lst.permissions:
        return None  # Only GDPR audiences have marketing permissions.
    known = {p["marketing_permission_id"]: p for p in lst.permissions}
    enabled = {p["marketing_permission_id"]: p["enabled"] for p in member.get("marketing_permissions") or []}
    for item in given or []:
        permission_id = item.get("marketing_permission_id")
        if permission_id not in known:
            # Unverified wording: a faithful paraphrase.
            message = f"Invalid marketing permission ID: '{permission_id}'."
            raise invalid(message, errors=[{"field": "marketing_permissions", "message": message}])
        enabled[permission_id] = bool(item.get("enabled"))
    return [dict(p, enabled=enabled.get(p["marketing_permission_id"], False)) for p in lst.permissions]


def apply_member_changes(ctx, lst, member, body, creating=False, validate=True):
    """Check the whole write first (a refused write changes nothing), then apply it."""
    _check_interests(lst, body.get("interests"))
    if validate:
        merge_fields = member_merge_fields(ctx, lst, member["merge_fields"], body.get("merge_fields"), creating)
    else:
        merge_fields = dict(member["merge_fields"], **(body.get("merge_fields") or {}))
    permissions = _marketing_permissions(ctx, lst, member, body.get("marketing_permissions"))
    for name in MEMBER_FIELDS:
        if name in body:
            member[name] = copy.deepcopy(body[name])
    member["merge_fields"] = merge_fields
    if permissions is None:
        member.pop("marketing_permissions", None)
    else:
        member["marketing_permissions"] = permissions
    member["interests"].update({key: bool(value) for key, value in (body.get("interests") or {}).items()})
    fields = member["merge_fields"]
    member["full_name"] = " ".join(str(fields[k]) for k in ("FNAME", "LNAME") if fields.get(k))
    member["last_changed"] = now_iso()


def change_email(lst, member, email):
    """Readdress a member: its id is the hash of the new address."""
    email = check_email(email)
    hashed = subscriber_hash(email)
    if hashed != member["id"]:
        if hashed in lst.members:
            raise ApiError(400, f"{email} is already a list member.", title="Member Exists")
        del lst.members[member["id"]]
        member.update(id=hashed, email_address=email, last_changed=now_iso())
        lst.members[hashed] = member


def set_status(member, status):
    if member["status"] != status:
        member["status"] = status
        member["last_changed"] = now_iso()
        if status == "subscribed":
            member["timestamp_opt"] = member["last_changed"]


def _member(ctx, lst=None):
    lst = lst or ctx.mailing_list()
    member = lst.members.get(ctx.params["subscriberHash"].lower())
    if member is None:
        raise not_found("The requested resource could not be found.")
    return lst, member


MEMBER_SORT_FIELDS = ("timestamp_opt", "timestamp_signup", "last_changed")


def _parse_time(name, value):
    """An ISO 8601 query time, as Mailchimp takes it ("2015-10-21T15:41:36+00:00"); naive means UTC."""
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name} must be an ISO 8601 time, like 2015-10-21T15:41:36+00:00.",
                      errors=[{"field": name, "message": "Invalid date format."}])
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _changed_after(member, since):
    return datetime.datetime.fromisoformat(member["last_changed"]) > since


@handles("GET", "/lists/{listId}/members")
def list_members(ctx):
    """Filters (``status``, ``unique_email_id``, ``since_last_changed``: changed strictly after),
    ``sort_field``/``sort_dir``, then a page; only the page's members are rendered, so paging a big audience stays
    cheap."""
    lst = ctx.mailing_list()
    members = list(lst.members.values())
    if ctx.query.get("status"):
        members = [m for m in members if m["status"] == ctx.query["status"]]
    if ctx.query.get("unique_email_id"):
        members = [m for m in members if m.get("unique_email_id") == ctx.query["unique_email_id"]]
    if ctx.query.get("since_last_changed"):
        since = _parse_time("since_last_changed", ctx.query["since_last_changed"])
        members = [m for m in members if _changed_after(m, since)]
    sort_field = ctx.query.get("sort_field")
    if sort_field:
        if sort_field not in MEMBER_SORT_FIELDS:
            raise invalid(f"sort_field must be one of {', '.join(MEMBER_SORT_FIELDS)}.")
        members.sort(key=lambda m: m.get(sort_field) or "", reverse=ctx.query.get("sort_dir") == "DESC")
    count = min(int(ctx.query.get("count", 10) or 10), 1000)
    offset = int(ctx.query.get("offset", 0) or 0)
    return {"members": [lst.member_json(m) for m in members[offset:offset + count]], "list_id": lst.id,
            "total_items": len(members), "_links": []}


@handles("POST", "/lists/{listId}/members")
def create_member(ctx):
    lst = ctx.mailing_list()
    require(ctx.body, "email_address", "status")
    email = check_email(ctx.body["email_address"])
    hashed = subscriber_hash(email)
    if hashed in lst.forgotten:
        raise forgotten_error(email)
    existing = lst.members.get(hashed)
    if existing and existing["status"] != "archived":
        raise ApiError(
            400,
            f"{email} is already a list member. Use PUT to insert or update list members.",
            title="Member Exists",
        )
    if existing is None:
        check_not_fake(ctx, lst, email)
    elif ctx.body["status"] == "subscribed":
        check_can_subscribe(ctx, lst, existing)
    return lst.member_json(new_member(ctx, lst, email, ctx.body["status"], ctx.body))


@handles("PUT", "/lists/{listId}/members/{subscriberHash}")
def upsert_member(ctx):
    lst = ctx.mailing_list()
    require(ctx.body, "email_address", "status_if_new")
    email = check_email(ctx.body["email_address"])
    hashed = subscriber_hash(email)
    if hashed != ctx.params["subscriberHash"].lower():
        raise invalid("The subscriber hash in the URL does not match the email_address.")
    if hashed in lst.forgotten:
        raise forgotten_error(email)
    member = lst.members.get(hashed)
    if member is None:
        check_not_fake(ctx, lst, email)
        return lst.member_json(new_member(ctx, lst, email, ctx.body["status_if_new"], ctx.body))
    status = ctx.body.get("status")
    if member["status"] == "archived" and not status:
        # ``status_if_new`` is for an address the audience lacks: an archived member is not new, and a write
        # without ``status`` leaves it archived and its profile as it was (an archived contact cannot be
        # edited). Only a ``status`` brings it back (or the member's own signup, or its store activity).
        return lst.member_json(member)
    if status == "subscribed" and member["status"] != "subscribed":
        check_can_subscribe(ctx, lst, member)
    apply_member_changes(ctx, lst, member, ctx.body)
    if status:
        change_status(ctx, lst, member, status)
    return lst.member_json(member)


@handles("PATCH", "/lists/{listId}/members/{subscriberHash}")
def patch_member(ctx):
    lst, member = _member(ctx)
    new_email = None
    if "email_address" in ctx.body:
        email = check_email(ctx.body["email_address"])
        if subscriber_hash(email) != member["id"]:
            if subscriber_hash(email) in lst.members:
                raise ApiError(400, f"{email} is already a list member.", title="Member Exists")
            check_not_fake(ctx, lst, email)
            new_email = email
    status = ctx.body.get("status")
    if status == "subscribed" and member["status"] != "subscribed":
        check_can_subscribe(ctx, lst, member)
    apply_member_changes(ctx, lst, member, ctx.body)
    if new_email:
        del lst.members[member["id"]]
        member.update(id=subscriber_hash(new_email), email_address=new_email)
        lst.members[member["id"]] = member
    if status:
        change_status(ctx, lst, member, status)
    return lst.member_json(member)


@handles("GET", "/lists/{listId}/members/{subscriberHash}")
def get_member(ctx):
    lst, member = _member(ctx)
    return lst.member_json(member)


@handles("DELETE", "/lists/{listId}/members/{subscriberHash}")
def archive_member(ctx):
    lst, member = _member(ctx)
    if member["status"] != "archived":
        lst.archived_status[member["id"]] = member["status"]
    set_status(member, "archived")
    return 204, None


@handles("POST", "/lists/{listId}/members/{subscriberHash}/actions/delete-permanent")
def delete_member_permanently(ctx):
    lst, member = _member(ctx)
    del lst.members[member["id"]]
    lst.forgotten.add(member["id"])
    return 204, None


@handles("GET", "/lists/{listId}/members/{subscriberHash}/tags")
def list_member_tags(ctx):
    _, member = _member(ctx)
    return page(member["tags"], ctx.query, "tags")


#: Mailchimp's limit on a tag's name.
MAX_TAG_NAME = 100
TAG_STATUSES = ("active", "inactive")


def _check_tags(tags):
    """The whole request is checked before any tag changes: a refused request changes nothing."""
    if not isinstance(tags, list):
        raise invalid("The resource submitted could not be validated.",
                      errors=[{"field": "tags", "message": "Schema describes array, object found instead"}])
    for tag in tags:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise invalid("The resource submitted could not be validated.",
                          errors=[{"field": "tags.name", "message": "Tag name is required."}])
        if len(name) > MAX_TAG_NAME:
            # Unverified wording: a faithful paraphrase of Mailchimp's 100-character limit.
            raise invalid(f"Tag names must be {MAX_TAG_NAME} characters or fewer.",
                          errors=[{"field": "tags.name", "message": "Tag name is too long."}])
        if tag.get("status") not in TAG_STATUSES:
            raise invalid("The resource submitted could not be validated.",
                          errors=[{"field": "tags.status", "message": "Status must be active or inactive."}])


@handles("POST", "/lists/{listId}/members/{subscriberHash}/tags")
def update_member_tags(ctx):
    """Tags are added (``active``) or removed (``inactive``, a no-op for a tag the member lacks); the member's
    status is never changed by them. Names are compared regardless of case, as Mailchimp does: "vip" is the
    audience's tag "VIP" (it keeps the spelling it was created with), and removing "vip" removes "VIP".

    A tag added to a subscribed member starts the audience's tag automations ("tag added" journeys), recorded in
    ``tag_automations`` (rule ``notifications``), unless the request says ``is_syncing: true``: "automations
    based on the tags in the request will not fire"."""
    lst, member = _member(ctx)
    require(ctx.body, "tags")
    _check_tags(ctx.body["tags"])
    syncing = ctx.body.get("is_syncing", False)
    if not isinstance(syncing, bool):
        raise invalid("The resource submitted could not be validated.",
                      errors=[{"field": "is_syncing", "message": "Schema describes boolean, %s found instead"
                               % type(syncing).__name__}])
    for tag in ctx.body["tags"]:
        name = tag["name"].strip()
        key = name.casefold()
        current = [t for t in member["tags"] if t["name"].casefold() != key]
        if tag["status"] == "active":
            kept = next((t for t in member["tags"] if t["name"].casefold() == key), None)
            known = lst.tag_ids.setdefault(key, (len(lst.tag_ids) + 1, name))
            current.append(kept or {"id": known[0], "name": known[1], "date_added": now_iso()})
            if (kept is None and not syncing and member["status"] == "subscribed"
                    and rule_on(ctx, lst, rules.NOTIFICATIONS)):
                ctx.account.tag_automations.append({"list_id": lst.id, "email": member["email_address"],
                                                    "tag": known[1], "at": now_iso()})
        member["tags"] = current
    member["last_changed"] = now_iso()
    return 204, None


# Interest categories and interests ---------------------------------------------------------------


def _category(ctx):
    lst = ctx.mailing_list()
    category = lst.categories.get(ctx.params["interestCategoryId"])
    if category is None:
        raise not_found()
    return lst, category


def _category_json(category):
    return {key: value for key, value in category.items() if key != "interests"}


def _interest_json(lst, interest):
    data = dict(interest)
    count = sum(1 for m in lst.members.values() if m["interests"].get(interest["id"]))
    data["subscriber_count"] = str(count)
    return data


@handles("GET", "/lists/{listId}/interest-categories")
def list_categories(ctx):
    lst = ctx.mailing_list()
    return page((_category_json(c) for c in lst.categories.values()), ctx.query, "categories", list_id=lst.id)


@handles("POST", "/lists/{listId}/interest-categories")
def create_category(ctx):
    lst = ctx.mailing_list()
    require(ctx.body, "title", "type")
    if any(c["title"] == ctx.body["title"] for c in lst.categories.values()):
        raise invalid(f'Cannot add "{ctx.body["title"]}" because it already exists on the list.')
    category = {
        "list_id": lst.id,
        "id": random_hex(10),
        "title": ctx.body["title"],
        "display_order": ctx.body.get("display_order", len(lst.categories)),
        "type": ctx.body["type"],
        "interests": {},
    }
    lst.categories[category["id"]] = category
    return _category_json(category)


@handles("GET", "/lists/{listId}/interest-categories/{interestCategoryId}")
def get_category(ctx):
    return _category_json(_category(ctx)[1])


@handles("PATCH", "/lists/{listId}/interest-categories/{interestCategoryId}")
def patch_category(ctx):
    _, category = _category(ctx)
    merge(category, ctx.body, exclude=("id", "list_id", "interests"))
    return _category_json(category)


@handles("DELETE", "/lists/{listId}/interest-categories/{interestCategoryId}")
def delete_category(ctx):
    lst, category = _category(ctx)
    for interest_id in category["interests"]:
        _forget_interest(lst, interest_id)
    del lst.categories[category["id"]]
    return 204, None


def _forget_interest(lst, interest_id):
    for member in lst.members.values():
        member["interests"].pop(interest_id, None)


def _interest(ctx):
    lst, category = _category(ctx)
    interest = category["interests"].get(ctx.params["interestId"])
    if interest is None:
        raise not_found()
    return lst, category, interest


def _check_interest_name(category, name, own_id=None):
    if any(i["name"] == name and i["id"] != own_id for i in category["interests"].values()):
        raise invalid(f'Cannot add "{name}" because it already exists on the list.')


@handles("GET", "/lists/{listId}/interest-categories/{interestCategoryId}/interests")
def list_interests(ctx):
    lst, category = _category(ctx)
    interests = [_interest_json(lst, i) for i in category["interests"].values()]
    return page(interests, ctx.query, "interests", list_id=lst.id, category_id=category["id"])


@handles("POST", "/lists/{listId}/interest-categories/{interestCategoryId}/interests")
def create_interest(ctx):
    lst, category = _category(ctx)
    require(ctx.body, "name")
    _check_interest_name(category, ctx.body["name"])
    if len(lst.interest_ids()) >= MAX_INTERESTS and rule_on(ctx, lst, rules.INTEREST_LIMIT):
        # Mailchimp's wording as quoted in Adobe's Mailchimp destination guide (the title is not quoted there).
        raise invalid(f"Cannot have more than {MAX_INTERESTS} interests per list (Across all categories)")
    interest = {
        "category_id": category["id"],
        "list_id": lst.id,
        "id": random_hex(10),
        "name": ctx.body["name"],
        "display_order": ctx.body.get("display_order", len(category["interests"])),
    }
    category["interests"][interest["id"]] = interest
    return _interest_json(lst, interest)


@handles("GET", "/lists/{listId}/interest-categories/{interestCategoryId}/interests/{interestId}")
def get_interest(ctx):
    lst, _, interest = _interest(ctx)
    return _interest_json(lst, interest)


@handles("PATCH", "/lists/{listId}/interest-categories/{interestCategoryId}/interests/{interestId}")
def patch_interest(ctx):
    lst, category, interest = _interest(ctx)
    if "name" in ctx.body:
        _check_interest_name(category, ctx.body["name"], own_id=interest["id"])
    merge(interest, ctx.body, exclude=("id", "list_id", "category_id", "subscriber_count"))
    return _interest_json(lst, interest)


@handles("DELETE", "/lists/{listId}/interest-categories/{interestCategoryId}/interests/{interestId}")
def delete_interest(ctx):
    lst, category, interest = _interest(ctx)
    del category["interests"][interest["id"]]
    _forget_interest(lst, interest["id"])
    return 204, None


# Webhooks ----------------------------------------------------------------------------------------

WEBHOOK_EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
WEBHOOK_SOURCES = ("user", "admin", "api")


def _is_private_host(host):
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def _check_webhook_url(ctx, url):
    parsed = urllib.parse.urlparse(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "url", "message": "Please enter a valid URL."}],
        )
    if not ctx.emulator.allow_private_webhooks and _is_private_host(parsed.hostname):
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[
                {
                    "field": "url",
                    "message": "Sorry, you can't use localhost or private "
                    "network addresses for webhook URLs.",
                }
            ],
        )
    if ctx.emulator.verify_webhooks:
        _verify_webhook_url(url)


def _verify_webhook_url(url):
    """Mailchimp GETs a new webhook URL and refuses it unless that answers 200."""
    try:
        status = requests.get(url, timeout=5).status_code
    except requests.RequestException:
        status = None
    if status != 200:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "url", "message": f"We couldn't verify the URL is working (got {status})."}],
        )


def _webhook(ctx):
    lst = ctx.mailing_list()
    webhook = lst.webhooks.get(ctx.params["webhookId"])
    if webhook is None:
        raise not_found()
    return lst, webhook


@handles("GET", "/lists/{listId}/webhooks")
def list_webhooks(ctx):
    lst = ctx.mailing_list()
    return {
        "webhooks": copy.deepcopy(list(lst.webhooks.values())),
        "list_id": lst.id,
        "total_items": len(lst.webhooks),
        "_links": [],
    }


@handles("POST", "/lists/{listId}/webhooks")
def create_webhook(ctx):
    lst = ctx.mailing_list()
    require(ctx.body, "url")
    _check_webhook_url(ctx, ctx.body["url"])
    if any(w["url"] == ctx.body["url"] for w in lst.webhooks.values()):
        raise invalid("Sorry, you can't use the same webhook URL twice.")
    events = dict.fromkeys(WEBHOOK_EVENTS, True)
    events.update(ctx.body.get("events") or {})
    sources = dict.fromkeys(WEBHOOK_SOURCES, True)
    sources.update(ctx.body.get("sources") or {})
    webhook = {
        "id": random_hex(10),
        "url": ctx.body["url"],
        "events": events,
        "sources": sources,
        "list_id": lst.id,
    }
    lst.webhooks[webhook["id"]] = webhook
    return copy.deepcopy(webhook)


@handles("GET", "/lists/{listId}/webhooks/{webhookId}")
def get_webhook(ctx):
    return copy.deepcopy(_webhook(ctx)[1])


@handles("PATCH", "/lists/{listId}/webhooks/{webhookId}")
def patch_webhook(ctx):
    _, webhook = _webhook(ctx)
    if "url" in ctx.body:
        _check_webhook_url(ctx, ctx.body["url"])
    merge(webhook, ctx.body, exclude=("id", "list_id"))
    return copy.deepcopy(webhook)


@handles("DELETE", "/lists/{listId}/webhooks/{webhookId}")
def delete_webhook(ctx):
    lst, webhook = _webhook(ctx)
    del lst.webhooks[webhook["id"]]
    return 204, None
