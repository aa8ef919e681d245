"""The "Contact Group" interest category and one interest per ContactGroup."""
from shoop_mailchimp.mailchimp.errors import MailchimpNotFound

CATEGORY_TITLE = "Contact Group"
#: Mailchimp's limit on interest names.
MAX_INTEREST_NAME = 100


def interest_name(name, group_id):
    name = (name or "").strip() or "Group %s" % group_id
    return name[:MAX_INTEREST_NAME]


def ensure_category(client, list_id):
    """Find the "Contact Group" category or create it (hidden from signup forms); returns its id."""
    answer = client.lists.interest_categories.all(list_id, get_all=True, fields="categories.id,categories.title")
    for category in answer.get("categories", []):
        if category["title"] == CATEGORY_TITLE:
            return category["id"]
    created = client.lists.interest_categories.create(list_id, {"title": CATEGORY_TITLE, "type": "hidden"})
    return created["id"]


def existing_interests(client, list_id, category_id):
    """{name: interest id} of the category."""
    answer = client.lists.interest_categories.interests.all(
        list_id, category_id, get_all=True, fields="interests.id,interests.name"
    )
    return {interest["name"]: interest["id"] for interest in answer.get("interests", [])}


def create_interest(client, list_id, category_id, name):
    return client.lists.interest_categories.interests.create(list_id, category_id, {"name": name})["id"]


def rename_interest(client, list_id, category_id, interest_id, name):
    client.lists.interest_categories.interests.update(list_id, category_id, interest_id, {"name": name})


def delete_interest(client, list_id, category_id, interest_id):
    try:
        client.lists.interest_categories.interests.delete(list_id, category_id, interest_id)
    except MailchimpNotFound:
        return False
    return True
