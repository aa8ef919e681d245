"""In-memory account state, kept as plain JSON-ready dicts so responses are simple copies."""

import copy
import datetime
import hashlib
import secrets


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def subscriber_hash(email):
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()


def random_hex(length):
    return secrets.token_hex((length + 1) // 2)[:length]


class MailingList:
    """An audience with its members, interest categories and webhooks."""

    def __init__(self, list_id, name):
        self.id = list_id
        self.data = {
            "id": list_id,
            "web_id": int(random_hex(6), 16),
            "name": name,
            "date_created": now_iso(),
            "list_rating": 0,
            "email_type_option": False,
            "visibility": "prv",
            "double_optin": False,
            "marketing_permissions": False,
            "permission_reminder": "You signed up on our shop.",
            "use_archive_bar": True,
            "contact": {
                "company": "Emulator",
                "address1": "1 Test Street",
                "city": "Testville",
                "state": "",
                "zip": "00000",
                "country": "US",
            },
            "campaign_defaults": {
                "from_name": "Emulator",
                "from_email": "shop@example.com",
                "subject": "",
                "language": "en",
            },
        }
        self.members = {}
        self.categories = {}
        self.webhooks = {}
        self.forgotten = set()
        self.tag_ids = {}

    def interest_ids(self):
        return [iid for category in self.categories.values() for iid in category["interests"]]

    def to_json(self):
        data = copy.deepcopy(self.data)
        counts = {}
        for member in self.members.values():
            counts[member["status"]] = counts.get(member["status"], 0) + 1
        data["stats"] = {
            "member_count": counts.get("subscribed", 0),
            "total_contacts": len(self.members),
            "unsubscribe_count": counts.get("unsubscribed", 0),
            "cleaned_count": counts.get("cleaned", 0),
            "member_count_since_send": counts.get("subscribed", 0),
            "unsubscribe_count_since_send": counts.get("unsubscribed", 0),
            "cleaned_count_since_send": counts.get("cleaned", 0),
        }
        return data

    def member_json(self, member):
        data = copy.deepcopy(member)
        interests = dict.fromkeys(self.interest_ids(), False)
        interests.update(data.get("interests", {}))
        data["interests"] = interests
        data["tags_count"] = len(data["tags"])
        return data


class Store:
    """An e-commerce store with customers, products and orders."""

    def __init__(self, data):
        self.id = data["id"]
        self.data = data
        self.customers = {}
        self.products = {}
        self.orders = {}


class Account:
    """Everything one API key can see."""

    def __init__(self, api_key):
        self.api_key = api_key
        self.lists = {}
        self.stores = {}
        self.batches = {}
        self.revoked = False
