"""Where things live in the Marketing API: resource paths and the few calls made outside plans.

Plans (``shoop_mailchimp.sync.kinds``) build operations on these paths; initialization, the account
check and the webhook registration use the small functions below. Nothing here knows Shuup.
"""
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from shoop_mailchimp.mailchimp.errors import MailchimpNotFound
from shoop_mailchimp.mailchimp.members import subscriber_hash

INTEREST_CATEGORY_TITLE = "Contact Group"
#: Mailchimp's limit on interest names.
MAX_INTEREST_NAME = 100


def _id(value):
    return quote(str(value), safe="")


def list_path(list_id):
    return "lists/%s" % _id(list_id)


def members_path(list_id):
    return "%s/members" % list_path(list_id)


def member_path(list_id, email):
    return "lists/%s/members/%s" % (_id(list_id), subscriber_hash(email))


def store_path(store_id):
    return "ecommerce/stores/%s" % _id(store_id)


def customer_path(store_id, customer_id):
    return "%s/customers/%s" % (store_path(store_id), _id(customer_id))


def order_path(store_id, order_id=None):
    path = "%s/orders" % store_path(store_id)
    return path if order_id is None else "%s/%s" % (path, _id(order_id))


def product_path(store_id, product_id=None):
    path = "%s/products" % store_path(store_id)
    return path if product_id is None else "%s/%s" % (path, _id(product_id))


def promo_rule_path(store_id, rule_id=None):
    path = "%s/promo-rules" % store_path(store_id)
    return path if rule_id is None else "%s/%s" % (path, _id(rule_id))


def promo_code_path(store_id, rule_id, code_id=None):
    path = "%s/promo-codes" % promo_rule_path(store_id, rule_id)
    return path if code_id is None else "%s/%s" % (path, _id(code_id))


def connected_site_path(foreign_id=None):
    return "connected-sites" if foreign_id is None else "connected-sites/%s" % _id(foreign_id)


def campaign_path(campaign_id):
    return "campaigns/%s" % _id(campaign_id)


def cart_path(store_id, cart_id=None):
    path = "%s/carts" % store_path(store_id)
    return path if cart_id is None else "%s/%s" % (path, _id(cart_id))


def interests_path(list_id, category_id, interest_id=None):
    path = "lists/%s/interest-categories/%s/interests" % (_id(list_id), _id(category_id))
    return path if interest_id is None else "%s/%s" % (path, _id(interest_id))


def webhooks_path(list_id, webhook_id=None):
    path = "lists/%s/webhooks" % _id(list_id)
    return path if webhook_id is None else "%s/%s" % (path, _id(webhook_id))


# Account and audience ------------------------------------------------------------------------------


def ping(session):
    return session.get("ping")


def get_list(session, list_id):
    return session.get(list_path(list_id), fields="id,name,stats.member_count")


def list_audiences(session):
    """The account's audiences as (id, name) pairs."""
    answer = session.get("lists", count=100, fields="lists.id,lists.name,total_items") or {}
    return [(item["id"], item["name"]) for item in answer.get("lists", [])]


#: Members read per request (Mailchimp's maximum).
MEMBERS_PAGE_SIZE = 1000
#: Members of one second read again at the start of the next page, in case some left it meanwhile.
MEMBERS_PAGE_OVERLAP = 50


def member_pages(session, list_id, fields, since=None):
    """Yield ``(members, total_items)`` page by page, oldest change first; ``since``: only members changed
    after that moment. ``total_items`` is the first answer's: how many were to read when it began.

    Pages follow ``last_changed`` rather than a plain offset: each next page asks for the members changed
    since the second before the last one read, and a member changed meanwhile moves to the end, where it
    is read again. Within that second (an import changes thousands at once) an offset goes on, started
    MEMBERS_PAGE_OVERLAP members early: a member that left the second shifts none unread past it, and
    those read twice are left out by their id.
    """
    fields = "total_items,members.last_changed,members.unique_email_id," + fields
    cursor, skip, first_total, read_in_second = since, 0, None, set()
    while True:
        offset = max(0, skip - MEMBERS_PAGE_OVERLAP)
        params = {"count": MEMBERS_PAGE_SIZE, "offset": offset, "fields": fields, "sort_field": "last_changed",
                  "sort_dir": "ASC"}
        if cursor is not None:
            params["since_last_changed"] = cursor.replace(microsecond=0).isoformat()
        answer = session.get(members_path(list_id), **params) or {}
        answered = answer.get("members") or []
        if first_total is None:
            first_total = int(answer.get("total_items") or 0)
        yield [member for member in answered if member.get("unique_email_id") not in read_in_second], first_total
        if len(answered) < MEMBERS_PAGE_SIZE:
            return
        last = answered[-1].get("last_changed") or ""
        in_last_second = {member.get("unique_email_id") for member in answered if member.get("last_changed") == last}
        boundary = parse_time(last) - timedelta(seconds=1)
        if boundary == cursor:  # the whole page changed in that one second: on through it
            skip = offset + len(answered)
            read_in_second |= in_last_second
        else:
            cursor, skip, read_in_second = boundary, len(in_last_second), in_last_second


def parse_time(value):
    """Mailchimp's ISO 8601 time ("2015-10-21T15:41:36+00:00") as an aware datetime (UTC when naive)."""
    moment = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def get_or_none(session, path, **params):
    try:
        return session.get(path, **params)
    except MailchimpNotFound:
        return None


# Merge fields ----------------------------------------------------------------------------------------

#: What the shop keeps of a merge field: enough to map shop data to it and give each value its type's form.
#: ``merge_id`` tells a field deleted and made again (its values gone with it) from the field, even with the same tag
#: and type: Mailchimp gives each new field a new one.
MERGE_FIELD_KEYS = ("merge_id", "tag", "name", "type", "required", "options")


def merge_fields_path(list_id):
    return "lists/%s/merge-fields" % _id(list_id)


#: The query of the merge fields' one page.
MERGE_FIELDS_QUERY = {"count": 1000}


def list_merge_fields(session, list_id):
    """The audience's merge fields (an audience has at most a few dozen: one page)."""
    return merge_fields_of(session.get(merge_fields_path(list_id), **MERGE_FIELDS_QUERY))


def merge_fields_of(answer):
    """What the shop keeps of the merge fields in an answer to ``GET lists/{id}/merge-fields``."""
    return [{key: field.get(key) for key in MERGE_FIELD_KEYS} for field in (answer or {}).get("merge_fields", [])]


def create_merge_field(session, list_id, body):
    return session.post(merge_fields_path(list_id), body)


# Interests -------------------------------------------------------------------------------------------


def interest_name(name, group_id):
    name = (name or "").strip() or "Group %s" % group_id
    return name[:MAX_INTEREST_NAME]


# Webhooks --------------------------------------------------------------------------------------------


def find_webhook(session, list_id, url):
    """The id of the audience's webhook calling ``url``, or None."""
    answer = session.get(webhooks_path(list_id)) or {}
    for webhook in answer.get("webhooks", []):
        if webhook.get("url") == url:
            return webhook["id"]
    return None


def create_webhook(session, list_id, url, events, sources):
    return session.post(webhooks_path(list_id), {"url": url, "events": events, "sources": sources})["id"]


def delete_webhook(session, list_id, webhook_id):
    try:
        session.delete(webhooks_path(list_id, webhook_id))
    except MailchimpNotFound:
        return False
    return True
