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


#: The merge fields of a new Mailchimp audience: tag, name, type, options.
DEFAULT_MERGE_FIELDS = (
    ("FNAME", "First Name", "text", {"size": 25}),
    ("LNAME", "Last Name", "text", {"size": 25}),
    ("ADDRESS", "Address", "address", {"default_country": 164}),
    ("PHONE", "Phone Number", "phone", {"phone_format": "none"}),
    ("BIRTHDAY", "Birthday", "birthday", {"date_format": "MM/DD"}),
)
#: Options a merge field of each type gets unless the request says otherwise.
MERGE_FIELD_OPTIONS = {
    "text": {"size": 25},
    "address": {"default_country": 164},
    "phone": {"phone_format": "none"},
    "date": {"date_format": "MM/DD/YYYY"},
    "birthday": {"date_format": "MM/DD"},
    "radio": {"choices": []},
    "dropdown": {"choices": []},
}
#: The marketing permissions Mailchimp gives a new GDPR-enabled audience.
DEFAULT_MARKETING_PERMISSIONS = ("Email", "Direct Mail", "Customized Online Advertising")


class MailingList:
    """An audience with its members, interest categories and webhooks."""

    def __init__(self, list_id, name, marketing_permissions=()):
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
            "marketing_permissions": bool(marketing_permissions),
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
        #: Rule switches for this audience only (see rules.py).
        self.rules = {}
        #: The status a member had before being archived: compliance outlives archiving.
        self.archived_status = {}
        self.merge_fields = {}
        self.next_merge_id = 1
        for tag, name, kind, options in DEFAULT_MERGE_FIELDS:
            self.add_merge_field({"tag": tag, "name": name, "type": kind, "options": dict(options)})
        #: GDPR marketing permissions, in order: ``{"marketing_permission_id", "text"}``.
        self.permissions = [
            {"marketing_permission_id": random_hex(10), "text": text} for text in marketing_permissions
        ]

    def add_merge_field(self, body):
        merge_id = self.next_merge_id
        self.next_merge_id += 1
        field = {
            "merge_id": merge_id,
            "tag": body.get("tag") or f"MMERGE{merge_id}",
            "name": body["name"],
            "type": body["type"],
            "required": bool(body.get("required", False)),
            "default_value": body.get("default_value", ""),
            "public": bool(body.get("public", False)),
            "display_order": body.get("display_order", len(self.merge_fields) + 2),
            "options": dict(MERGE_FIELD_OPTIONS.get(body["type"], {}), **(body.get("options") or {})),
            "help_text": body.get("help_text", ""),
            "list_id": self.id,
        }
        self.merge_fields[merge_id] = field
        return field

    def merge_field_by_tag(self, tag):
        return next((f for f in self.merge_fields.values() if f["tag"] == tag), None)

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
        """A member as Mailchimp shows it: every merge field of the audience (empty ones as "")."""
        data = copy.deepcopy(member)
        merge_fields = {field["tag"]: "" for field in self.merge_fields.values()}
        merge_fields.update(data["merge_fields"])
        data["merge_fields"] = merge_fields
        interests = dict.fromkeys(self.interest_ids(), False)
        interests.update(data.get("interests", {}))
        data["interests"] = interests
        data["tags_count"] = len(data["tags"])
        return data


class Store:
    """An e-commerce store with customers, products, orders, carts and promo rules with their codes."""

    def __init__(self, data):
        self.id = data["id"]
        self.data = data
        self.customers = {}
        self.products = {}
        self.orders = {}
        self.carts = {}
        self.promo_rules = {}
        #: {promo rule id: {promo code id: code}}
        self.promo_codes = {}


class Account:
    """Everything one API key can see."""

    def __init__(self, api_key):
        self.api_key = api_key
        self.lists = {}
        self.stores = {}
        self.batches = {}
        self.revoked = False
        #: Rule switches for this account (see rules.py); an audience's own switches win.
        self.rules = {}
        #: Opt-in confirmation e-mails Mailchimp would have sent (a member became ``pending``).
        self.confirmations = []
        #: Order notifications and automations Mailchimp would have triggered.
        self.notifications = []
        #: Tag automations ("tag added" journeys) Mailchimp would have started: a tag added to a subscribed
        #: member by a tags request without ``is_syncing: true``.
        self.tag_automations = []
        #: Campaigns (sent e-mails) by id: what orders and carts may name in ``campaign_id``.
        self.campaigns = {}
        #: Connected sites by foreign id.
        self.connected_sites = {}
