"""Where things live in the Marketing API: resource paths and the few calls made outside plans.

Plans (``shoop_mailchimp.sync.kinds``) build operations on these paths; initialization, the account
check and the webhook registration use the small functions below. Nothing here knows Shuup.
"""
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


def member_pages(session, list_id, fields, since=None):
    """Yield ``(members, total_items)`` page by page, oldest change first; ``since``: only members changed
    after that moment. A member changed while the pages are read may move to the end: it is read again,
    or by the next read after ``since``."""
    offset = 0
    while True:
        params = {"count": MEMBERS_PAGE_SIZE, "offset": offset, "fields": "total_items," + fields,
                  "sort_field": "last_changed", "sort_dir": "ASC"}
        if since is not None:
            params["since_last_changed"] = since.replace(microsecond=0).isoformat()
        answer = session.get(members_path(list_id), **params) or {}
        page, total = answer.get("members") or [], int(answer.get("total_items") or 0)
        yield page, total
        offset += len(page)
        if not page or offset >= total:
            return


def get_or_none(session, path, **params):
    try:
        return session.get(path, **params)
    except MailchimpNotFound:
        return None


# Interests -------------------------------------------------------------------------------------------


def interest_name(name, group_id):
    name = (name or "").strip() or "Group %s" % group_id
    return name[:MAX_INTEREST_NAME]


def ensure_interest_category(session, list_id):
    """Find the "Contact Group" category or create it (hidden from signup forms); returns its id."""
    answer = session.get("lists/%s/interest-categories" % _id(list_id), count=1000,
                         fields="categories.id,categories.title") or {}
    for category in answer.get("categories", []):
        if category["title"] == INTEREST_CATEGORY_TITLE:
            return category["id"]
    created = session.post("lists/%s/interest-categories" % _id(list_id),
                           {"title": INTEREST_CATEGORY_TITLE, "type": "hidden"})
    return created["id"]


def existing_interests(session, list_id, category_id):
    """{name: interest id} of the category; {} when the category itself is gone."""
    answer = get_or_none(session, interests_path(list_id, category_id), count=1000,
                         fields="interests.id,interests.name") or {}
    return {interest["name"]: interest["id"] for interest in answer.get("interests", [])}


def create_interest(session, list_id, category_id, name):
    return session.post(interests_path(list_id, category_id), {"name": name})["id"]


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
