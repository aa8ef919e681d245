"""The :class:`Emulator`: state, dispatching, records, statistics and test helpers."""

import base64
import binascii
import copy
import datetime
import hashlib
import json
import logging
import random
import re
import threading
import time

import requests

from . import rules
from .batch_worker import BatchWorker
from .errors import ApiError, problem
from .faults import Faults
from .resources import HANDLERS
from .resources.campaigns import new_campaign
from .resources.lists import WEBHOOK_SOURCES, apply_member_changes, change_email, new_member, set_status
from .resources.registry import Context, select_fields
from .server import EmulatorServer
from .spec import load_spec, validation_available
from .state import DEFAULT_MARKETING_PERMISSIONS, Account, MailingList, now_iso, random_hex, subscriber_hash

log = logging.getLogger("shoop_mailchimp.testing.emulator")

DEMO_API_KEY = "0123456789abcdef0123456789abcdef-us1"
DEMO_LIST_ID = "d3m0a0d1e0"
MAX_CONCURRENT_PER_KEY = 10
API_KEY_RE = re.compile(r"^[0-9a-f]{32}-[a-z]+[0-9]+$")
#: Member changes :meth:`Emulator.fire_event` makes, and the status each one leaves.
MEMBER_EVENTS = ("subscribe", "unsubscribe", "cleaned", "profile", "upemail")
MEMBER_EVENTS_STATUS = {"subscribe": "subscribed", "unsubscribe": "unsubscribed", "cleaned": "cleaned"}
VALIDATOR_MISSING = "Validating requests needs openapi-schema-validator: pip install 'shoop-mailchimp[emulator]'"


class Emulator:
    """A stateful Mailchimp Marketing API v3 served over real HTTP on 127.0.0.1.

    Requests are routed by the bundled OpenAPI description and, with the ``emulator`` extra,
    validated against it; ``require_spec`` refuses to start without that validation.

    ``allow_private_webhooks`` defaults to True because test webhooks point at loopback
    addresses, which real Mailchimp refuses. ``verify_webhooks`` makes webhook creation
    send Mailchimp's checking GET to the URL (off by default: test URLs often serve nothing).

    The rules in :mod:`.rules` (Mailchimp's behaviour beyond the spec) are all on, except those
    named in ``rules_off``; ``set_rule`` switches one for the emulator, an account or an audience.
    ``batch_seed`` makes the shuffled order of batch operations reproducible (random if None).
    """

    def __init__(
        self,
        require_spec=False,
        spec_path=None,
        allow_private_webhooks=True,
        batch_delay=0.05,
        verify_webhooks=False,
        rules_off=(),
        batch_seed=None,
    ):
        self.spec = load_spec(spec_path)
        self.validating = validation_available()
        if not self.validating:
            if require_spec:
                raise ImportError(VALIDATOR_MISSING)
            log.warning("%s: requests to the emulator are NOT validated", VALIDATOR_MISSING)
        self._settings = {
            "allow_private_webhooks": allow_private_webhooks,
            "batch_delay": batch_delay,
            "verify_webhooks": verify_webhooks,
        }
        self._rules_off = rules.check_names(rules_off)
        self._initial_batch_seed = batch_seed
        self.lock = threading.RLock()
        self._records_lock = threading.Lock()
        #: Signalled whenever the emulator's state, records, batches or settings change (see wait_until).
        self._changed = threading.Condition(threading.Lock())
        self._changes = 0
        self._hang_releases = 0
        self.faults = Faults(on_down=self._down, on_up=self._up, on_change=self.changed)
        self.batch_worker = BatchWorker(self)
        self.generation = 0
        self._stats_epoch = 0
        self._server = None
        self.host = None
        self.port = None
        self.reset()

    # Lifecycle ----------------------------------------------------------------------------------

    def start(self, host="127.0.0.1", port=0):
        self._server = EmulatorServer(self, host, port)
        self.host, self.port = host, self._server.port
        return self

    def stop(self):
        if self._server is not None:
            self._server.close()
            self._server = None
        self.batch_worker.stop()

    def _down(self):
        if self._server is not None:
            self._server.close()
            self._server = None

    def _up(self):
        if self._server is None:
            self._server = EmulatorServer(self, self.host, self.port)

    @property
    def root_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self):
        return self.root_url + "/3.0/"

    # Waiting on events --------------------------------------------------------------------------

    @property
    def batch_delay(self):
        """Seconds a submitted batch waits before its operations run, and again before it finishes. Lowering
        it takes effect at once for a batch being held (``emulator.batch_delay = 0`` lets it go)."""
        return self._batch_delay

    @batch_delay.setter
    def batch_delay(self, seconds):
        self._batch_delay = float(seconds)
        self.changed()

    def changed(self):
        """Wake whoever waits in :meth:`wait_until` (and the emulator's own held batches and hangs)."""
        with self._changed:
            self._changes += 1
            self._changed.notify_all()

    def wait_until(self, predicate, timeout=10):
        """Wait until ``predicate()`` is true, evaluating it again each time the emulator changes (a request
        answered or recorded, a batch moving on, a member edited, a setting changed), at most ``timeout``
        seconds. Returns the predicate's last value: truthy, or falsy once the time is up, so that a test
        writes ``assert emulator.wait_until(lambda: ..., 10), "what never happened"``.

        The predicate runs without any emulator lock held; it may call the emulator's helpers."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                seen = self._changes
            result = predicate()
            if result:
                return result
            with self._changed:
                while self._changes == seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return result
                    self._changed.wait(remaining)

    def hold(self, seconds, since, stop=lambda: False):
        """Wait until ``since`` (a ``time.monotonic()``) plus ``seconds()`` has passed, re-reading ``seconds``
        at each change, or until ``stop()``; True when the time ran out, False when stopped."""
        while True:
            with self._changed:
                seen = self._changes
            if stop():
                return False
            remaining = since + seconds() - time.monotonic()
            if remaining <= 0:
                return True
            with self._changed:
                if self._changes == seen:
                    self._changed.wait(remaining)

    def release_hangs(self):
        """Let every request a ``hang`` fault holds now go on at once (later ones still hang, by its rule)."""
        with self._changed:
            self._hang_releases += 1
        self.changed()

    def reset(self):
        """Forget everything and restore the constructor's settings; the server keeps its port. A batch held by
        ``batch_delay`` and a request held by a hang or a latency end at once (they belong to an old test)."""
        with self.lock, self._records_lock:
            self.generation += 1
            for name, value in self._settings.items():
                setattr(self, name, value)
            self.accounts = {}
            self.requests = []
            self.violations = []
            self.batch_worker.results.clear()
            self._reset_stats_locked()
            self.rules = {name: name not in self._rules_off for name in rules.RULES}
            self.set_batch_seed(self._initial_batch_seed)
        self.faults.clear()
        self.changed()

    # Rules --------------------------------------------------------------------------------------

    def set_rule(self, rule, on, api_key=None, list_id=None):
        """Switch a rule for the whole emulator, one account (``api_key``) or one audience.

        At the account or audience level, ``on=None`` removes the switch (the wider one applies
        again). ``reset()`` restores every rule to the constructor's setting.
        """
        rules.check_names([rule])
        with self.lock:
            if api_key is None:
                if on is None:
                    raise ValueError("The emulator-wide setting of a rule is True or False")
                self.rules[rule] = bool(on)
                return
            scope = self.accounts[api_key]
            if list_id is not None:
                scope = scope.lists[list_id]
            if on is None:
                scope.rules.pop(rule, None)
            else:
                scope.rules[rule] = bool(on)

    def rule_settings(self, api_key=None, list_id=None):
        """Every rule's effective setting for the emulator, an account or one of its audiences."""
        with self.lock:
            account = self.accounts[api_key] if api_key else None
            lst = account.lists[list_id] if account and list_id else None
            return {name: rules.is_on(self, account, lst, name) for name in rules.RULES}

    def set_batch_seed(self, seed=None):
        """Seed the shuffling of batch operations; None picks a random seed (read it in ``batch_seed``)."""
        with self.lock:
            self.batch_seed = random.SystemRandom().randrange(2**32) if seed is None else int(seed)
        return self.batch_seed

    def shuffle_operations(self, account, operations):
        """The order a batch's operations run in: shuffled while the ``batch_shuffle`` rule is on.

        The order depends only on the seed and the operations, not on when or from which thread
        the batch was sent: the same seed gives the same batch the same order.
        """
        operations = list(operations)
        with self.lock:
            if not rules.is_on(self, account, None, rules.BATCH_SHUFFLE):
                return operations
            digest = hashlib.sha256(f"{self.batch_seed}:".encode() + json.dumps(operations, sort_keys=True).encode())
        random.Random(digest.hexdigest()).shuffle(operations)
        return operations

    # Accounts and state helpers -----------------------------------------------------------------

    def add_account(self, api_key=None, dc="us1"):
        api_key = api_key or f"{random_hex(32)}-{dc}"
        if not API_KEY_RE.match(api_key):
            raise ValueError("API keys look like 32 lowercase hex characters, a dash and a data centre")
        with self.lock:
            self.accounts.setdefault(api_key, Account(api_key))
        return api_key

    def add_list(self, api_key, name="Demo audience", list_id=None, marketing_permissions=None):
        """Add an audience; ``marketing_permissions`` makes it GDPR-enabled.

        True gives Mailchimp's three default permissions (Email, Direct Mail, Customized Online
        Advertising); a list of texts gives those.
        """
        if marketing_permissions is True:
            marketing_permissions = DEFAULT_MARKETING_PERMISSIONS
        with self.lock:
            account = self.accounts[api_key]
            list_id = list_id or random_hex(10)
            account.lists[list_id] = MailingList(list_id, name, marketing_permissions=marketing_permissions or ())
        return list_id

    def marketing_permissions(self, api_key, list_id):
        with self.lock:
            return copy.deepcopy(self.accounts[api_key].lists[list_id].permissions)

    def merge_fields(self, api_key, list_id):
        with self.lock:
            return copy.deepcopy(list(self.accounts[api_key].lists[list_id].merge_fields.values()))

    def add_merge_field(self, api_key, list_id, tag, type="text", name=None, required=False, **extra):
        """Add a merge field as an admin would in Mailchimp's UI (e.g. a required one)."""
        with self.lock:
            lst = self.accounts[api_key].lists[list_id]
            if lst.merge_field_by_tag(tag):
                raise ValueError(f"The audience already has a merge field {tag}")
            body = dict(extra, tag=tag, type=type, name=name or tag.title(), required=required)
            return copy.deepcopy(lst.add_merge_field(body))

    def set_merge_field_required(self, api_key, list_id, tag, required=True):
        with self.lock:
            self.accounts[api_key].lists[list_id].merge_field_by_tag(tag)["required"] = bool(required)

    def confirmations(self, api_key, list_id=None):
        """Opt-in confirmation e-mails Mailchimp would have sent (members that became ``pending``)."""
        with self.lock:
            items = self.accounts[api_key].confirmations
            return copy.deepcopy([c for c in items if list_id in (None, c["list_id"])])

    def notifications(self, api_key, store_id=None):
        """Order notifications and automations Mailchimp would have triggered (see docs/emulator.rst)."""
        with self.lock:
            items = self.accounts[api_key].notifications
            return copy.deepcopy([n for n in items if store_id in (None, n["store_id"])])

    def tag_automations(self, api_key, list_id=None):
        """Tag automations Mailchimp would have started: a tag added to a subscribed member by a tags request
        without ``is_syncing: true`` (see docs/emulator.rst)."""
        with self.lock:
            items = self.accounts[api_key].tag_automations
            return copy.deepcopy([a for a in items if list_id in (None, a["list_id"])])

    def add_campaign(self, api_key, campaign_id=None):
        """A campaign of the account (as if sent from Mailchimp's UI); returns its id, for ``mc_cid`` links."""
        with self.lock:
            return new_campaign(self.accounts[api_key], campaign_id)

    def connected_sites(self, api_key):
        with self.lock:
            return copy.deepcopy(list(self.accounts[api_key].connected_sites.values()))

    def revoke_key(self, api_key):
        with self.lock:
            self.accounts[api_key].revoked = True
            self.changed()

    def delete_list(self, api_key, list_id):
        with self.lock:
            del self.accounts[api_key].lists[list_id]
            self.changed()

    def delete_store(self, api_key, store_id):
        with self.lock:
            del self.accounts[api_key].stores[store_id]
            self.changed()

    @property
    def state(self):
        """A JSON-ready snapshot of every account."""
        with self.lock:
            return {key: self._account_json(account) for key, account in self.accounts.items()}

    def _account_json(self, account):
        lists = {}
        for lst in account.lists.values():
            data = lst.to_json()
            data.update(
                members=[lst.member_json(m) for m in lst.members.values()],
                interest_categories=self._categories_json(lst),
                webhooks=copy.deepcopy(list(lst.webhooks.values())),
                merge_fields=copy.deepcopy(list(lst.merge_fields.values())),
                marketing_permission_definitions=copy.deepcopy(lst.permissions),
                rules=dict(lst.rules),
            )
            lists[lst.id] = data
        stores = {}
        for store in account.stores.values():
            data = copy.deepcopy(store.data)
            data.update(
                customers=copy.deepcopy(list(store.customers.values())),
                products=copy.deepcopy(list(store.products.values())),
                orders=copy.deepcopy(list(store.orders.values())),
                carts=copy.deepcopy(list(store.carts.values())),
                promo_rules=self._promo_rules_json(store),
            )
            stores[store.id] = data
        return {
            "revoked": account.revoked,
            "lists": lists,
            "stores": stores,
            "batches": self._batches_json(account),
            "rules": dict(account.rules),
            "confirmations": copy.deepcopy(account.confirmations),
            "notifications": copy.deepcopy(account.notifications),
            "tag_automations": copy.deepcopy(account.tag_automations),
        }

    @staticmethod
    def _categories_json(lst):
        categories = []
        for category in lst.categories.values():
            data = copy.deepcopy(category)
            data["interests"] = list(data["interests"].values())
            categories.append(data)
        return categories

    def get_member(self, api_key, list_id, email):
        with self.lock:
            lst = self.accounts[api_key].lists[list_id]
            member = lst.members.get(subscriber_hash(email))
            return lst.member_json(member) if member else None

    def members(self, api_key, list_id):
        with self.lock:
            lst = self.accounts[api_key].lists[list_id]
            return [lst.member_json(m) for m in lst.members.values()]

    def set_member_status(self, api_key, list_id, email, status):
        """Change a status as if done in Mailchimp's UI (no webhook is sent)."""
        with self.lock:
            lst = self.accounts[api_key].lists[list_id]
            member = lst.members[subscriber_hash(email)]
            if status == "archived" and member["status"] != "archived":
                lst.archived_status[member["id"]] = member["status"]
            elif status != "archived":
                lst.archived_status.pop(member["id"], None)
            set_status(member, status)
            self.changed()
            return lst.member_json(member)

    def edit_member_by_hand(self, api_key, list_id, email, status=None, new_email=None, last_changed=None,
                            delete=False):
        """Change a member as a marketer would in Mailchimp's pages, firing no webhook: a new ``status``
        (``unsubscribe_reason`` "N/A (by an admin)" for an unsubscribe), a ``new_email``, or ``delete``
        it for good. ``last_changed`` (an aware datetime) backdates the change. Returns the member, or
        None once deleted; raises KeyError for an unknown member."""
        with self.lock:
            lst = self.accounts[api_key].lists[list_id]
            member = lst.members[subscriber_hash(email)]
            self.changed()
            if delete:
                del lst.members[member["id"]]
                lst.forgotten.add(member["id"])
                return None
            if new_email:
                change_email(lst, member, new_email)
            if status:
                if status == "archived" and member["status"] != "archived":
                    lst.archived_status[member["id"]] = member["status"]
                set_status(member, status)
                if status == "unsubscribed":
                    member["unsubscribe_reason"] = "N/A (by an admin)"
            if last_changed is not None:
                member["last_changed"] = last_changed.astimezone(datetime.timezone.utc).replace(
                    microsecond=0).isoformat()
            return lst.member_json(member)

    def add_members(self, api_key, list_id, emails, status="subscribed", last_changed=None, merge_fields=None):
        """Fill an audience fast (a benchmark's 50,000 members): no checks, no webhooks. ``last_changed``: an
        ISO 8601 time, default now; ``merge_fields``: each member's (a subscriber's own names, given on Mailchimp's
        form)."""
        with self.lock:
            lst = self.accounts[api_key].lists[list_id]
            stamp = last_changed or now_iso()
            for email in emails:
                hashed = subscriber_hash(email)
                lst.members[hashed] = {
                    "id": hashed, "email_address": email, "unique_email_id": random_hex(10), "status": status,
                    "merge_fields": dict(merge_fields or {}), "interests": {}, "tags": [], "last_changed": stamp,
                    "list_id": list_id,
                    "timestamp_opt": stamp if status == "subscribed" else "", "language": "", "vip": False,
                }
            self.changed()

    def interest_categories(self, api_key, list_id):
        with self.lock:
            return self._categories_json(self.accounts[api_key].lists[list_id])

    def get_store(self, api_key, store_id):
        with self.lock:
            store = self.accounts[api_key].stores.get(store_id)
            return copy.deepcopy(store.data) if store else None

    def stores(self, api_key):
        with self.lock:
            return [copy.deepcopy(s.data) for s in self.accounts[api_key].stores.values()]

    def _store_items(self, api_key, store_id, kind):
        with self.lock:
            return copy.deepcopy(list(getattr(self.accounts[api_key].stores[store_id], kind).values()))

    def customers(self, api_key, store_id):
        return self._store_items(api_key, store_id, "customers")

    def get_customer(self, api_key, store_id, customer_id):
        with self.lock:
            customer = self.accounts[api_key].stores[store_id].customers.get(customer_id)
            return copy.deepcopy(customer)

    def products(self, api_key, store_id):
        return self._store_items(api_key, store_id, "products")

    def orders(self, api_key, store_id):
        return self._store_items(api_key, store_id, "orders")

    def carts(self, api_key, store_id):
        return self._store_items(api_key, store_id, "carts")

    def promo_rules(self, api_key, store_id):
        """The store's promo rules, each with its ``promo_codes``."""
        with self.lock:
            return self._promo_rules_json(self.accounts[api_key].stores[store_id])

    @staticmethod
    def _promo_rules_json(store):
        return [dict(copy.deepcopy(rule), promo_codes=copy.deepcopy(list(store.promo_codes[rule_id].values())))
                for rule_id, rule in store.promo_rules.items()]

    @staticmethod
    def _batches_json(account):
        return [copy.deepcopy({k: v for k, v in b.items() if not k.startswith("_")}) for b in account.batches.values()]

    def batches(self, api_key):
        """The account's batches (under the lock: the batch worker thread changes the account meanwhile)."""
        with self.lock:
            return self._batches_json(self.accounts[api_key])

    def fire_event(self, api_key, list_id, type, email, source="user", new_email=None, merges=None):
        """Make a change in Mailchimp as a subscriber (``source="user"``) or an admin would, then send
        its webhook: ``subscribe`` (creates the member, as a signup form does), ``unsubscribe``,
        ``cleaned`` (a hard bounce), ``profile`` (new ``merges``) or ``upemail`` (``new_email``).

        Returns ``(member, deliveries)``: the member as it now is, and :meth:`deliver_webhook`'s list.
        Raises KeyError for an unknown account, list or member.
        """
        if type not in MEMBER_EVENTS:
            raise ValueError(f"type must be one of {', '.join(MEMBER_EVENTS)}")
        if source not in WEBHOOK_SOURCES:
            raise ValueError(f"source must be one of {', '.join(WEBHOOK_SOURCES)}")
        with self.lock:
            account = self.accounts[api_key]
            lst = account.lists[list_id]
            # A change made in Mailchimp's own pages: the person's, not an API write to check.
            ctx = Context(self, account, {}, {}, {})
            member = lst.members.get(subscriber_hash(email))
            if member is None and type == "subscribe":
                # A new member (a new unique_email_id), also of an address deleted for good: its owner may subscribe
                # again on a form, and the API may write the member from then on.
                lst.forgotten.discard(subscriber_hash(email))
                member = new_member(ctx, lst, email, "subscribed", {"merge_fields": merges or {}}, validate=False)
            elif member is None:
                raise KeyError(f"No member {email} in list {list_id}")
            old_email = member["email_address"]
            if type == "upemail":
                change_email(lst, member, new_email)
            elif type == "profile":
                apply_member_changes(ctx, lst, member, {"merge_fields": merges or {}}, validate=False)
            elif type in MEMBER_EVENTS_STATUS:
                set_status(member, MEMBER_EVENTS_STATUS[type])
                if type == "subscribe" and merges:  # a form's signup writes what its owner typed there
                    apply_member_changes(ctx, lst, member, {"merge_fields": merges}, validate=False)
            data = _event_data(type, member, old_email)
            member = lst.member_json(member)
            self.changed()
        return member, self.deliver_webhook(api_key, list_id, type, data, source=source)

    def deliver_webhook(self, api_key, list_id, type, data, timeout=10, source=None):
        """POST a form-encoded event, as Mailchimp does, to the list's webhooks subscribed to ``type``
        (and to ``source``, when given).

        Returns ``[(url, status_code or exception text)]``.
        """
        with self.lock:
            hooks = [
                w
                for w in self.accounts[api_key].lists[list_id].webhooks.values()
                if w["events"].get(type) and (source is None or w["sources"].get(source))
            ]
        form = {
            "type": type,
            "fired_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        }
        payload = dict(data, list_id=list_id)
        form.update(_flatten("data", payload))
        outcome = []
        for hook in hooks:
            try:
                outcome.append(
                    (hook["url"], requests.post(hook["url"], data=form, timeout=timeout).status_code)
                )
            except requests.RequestException as exc:
                outcome.append((hook["url"], repr(exc)))
        return outcome

    # Records and statistics ---------------------------------------------------------------------

    def clear_requests(self):
        with self._records_lock:
            self.requests = []
        self.changed()

    def clear_violations(self):
        with self._records_lock:
            self.violations = []

    def _reset_stats_locked(self):
        self._stats_epoch += 1
        self._in_flight = {}
        self._max_in_flight = {}
        self._overall_in_flight = 0
        self._overall_max = 0
        self._totals = {}
        self._connections = 0

    def reset_stats(self):
        with self._records_lock:
            self._reset_stats_locked()

    @property
    def stats(self):
        with self._records_lock:
            return {
                "in_flight": self._overall_in_flight,
                "max_in_flight": self._overall_max,
                "connections": self._connections,
                "totals": dict(self._totals),
                "per_key": {
                    key[-8:]: {
                        "in_flight": self._in_flight.get(key, 0),
                        "max_in_flight": self._max_in_flight.get(key, 0),
                    }
                    for key in self._max_in_flight
                },
            }

    def count_connection(self):
        """A TCP connection was opened: compared with the request count, it shows keep-alive at work."""
        with self._records_lock:
            self._connections += 1

    def _count(self, route_key):
        with self._records_lock:
            self._totals[route_key] = self._totals.get(route_key, 0) + 1

    def _enter(self, api_key):
        """Take a concurrency slot for ``api_key``; None when the per-key cap is reached."""
        with self._records_lock:
            current = self._in_flight.get(api_key, 0)
            if current >= MAX_CONCURRENT_PER_KEY:
                return None
            self._in_flight[api_key] = current + 1
            self._max_in_flight[api_key] = max(self._max_in_flight.get(api_key, 0), current + 1)
            self._overall_in_flight += 1
            self._overall_max = max(self._overall_max, self._overall_in_flight)
            epoch = self._stats_epoch
        self.changed()
        return epoch

    def _leave(self, api_key, epoch):
        with self._records_lock:
            if epoch == self._stats_epoch:
                self._in_flight[api_key] -= 1
                self._overall_in_flight -= 1
        self.changed()

    def _record(self, method, path, query, body, status, api_key, started):
        with self._records_lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "body": body,
                    "status": status,
                    "time": started,
                    "duration": round(time.time() - started, 4),
                    "api_key_suffix": api_key[-8:] if api_key else None,
                }
            )
        self.changed()

    def _violation(self, method, path, message, context=None):
        log.warning("Mailchimp spec violation: %s %s: %s", method, path, message)
        with self._records_lock:
            self.violations.append(dict(context or {}, method=method, path=path, message=message))
        self.changed()

    # Dispatching --------------------------------------------------------------------------------

    def _authenticate(self, header):
        if not header or not header.lower().startswith("basic "):
            return None, None
        try:
            decoded = base64.b64decode(header.split(" ", 1)[1].strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        api_key = decoded.split(":", 1)[-1]
        with self.lock:
            account = self.accounts.get(api_key)
        if account is None or account.revoked:
            return api_key, None
        return api_key, account

    def handle_http(self, method, path, query, raw_body, authorization, arrived=None):
        """Serve one /3.0 request (``arrived``: when its first line was read). Returns ``(status, body)`` or
        None to drop the connection."""
        started = arrived or time.time()
        api_key, account = self._authenticate(authorization)
        body, parse_error = _decode(raw_body)
        route, _ = self.spec.resolve(method, path)
        self._count(route.key if route else f"{method} <unknown path>")
        if account is None:
            status, response = (
                401,
                problem(
                    401, "Your API key may be invalid, or you've attempted to access the wrong datacenter."
                ),
            )
            self._record(method, path, query, body, status, api_key, started)
            return status, response
        generation = self.generation
        epoch = self._enter(api_key)
        if epoch is None:
            status, response = (
                429,
                problem(
                    429, f"You have exceeded the limit of {MAX_CONCURRENT_PER_KEY} simultaneous connections."
                ),
            )
            self._record(method, path, query, body, status, api_key, started)
            return status, response
        try:
            hang = self.faults.hang_for(method, path)
            held_since = time.monotonic()
            if hang:
                releases = self._hang_releases
                self.hold(lambda: hang, held_since,
                          lambda: generation != self.generation or releases != self._hang_releases)
            hung = time.monotonic() - held_since
            if generation != self.generation:
                return None  # the emulator was reset while this request waited: it belongs to an old test
            if self.faults.should_reset(method, path):
                self._record(method, path, query, body, 0, api_key, started)
                return None
            if parse_error:
                self._violation(method, path, parse_error)
                status, response = 400, problem(400, parse_error, title="JSON Parse Error")
            else:
                status, response, _ = self.dispatch(account, method, path, query, body)
            # The latency counts from the request's arrival: the emulator's own work is part of it. Lowered,
            # it takes effect at once for an answer it holds.
            arrived_at = time.monotonic() - (time.time() - started)
            if not self.hold(lambda: hung + self.faults.latency_seconds, arrived_at,
                             lambda: generation != self.generation):
                return None  # reset while its answer waited: recorded in no later test
            self._record(method, path, query, body, status, api_key, started)
            return status, response
        finally:
            self._leave(api_key, epoch)

    def dispatch(self, account, method, path, query, body, network=True, context=None):
        """Route, validate, apply faults and run a handler. Returns ``(status, body, route_key)``.

        Shared by HTTP requests and batch operations so both follow the same rules.
        """
        route, params = self.spec.resolve(method, path)
        if route is None:
            message = f"No {method} operation for {path} in the Mailchimp API"
            self._violation(method, path, message, context)
            return 404, problem(404, message), None
        errors = route.validate_request(body, query) if self.validating else []
        if errors:
            self._violation(method, path, "; ".join(errors), context)
            return (
                400,
                problem(400, "; ".join(errors), errors=[{"field": "", "message": e} for e in errors]),
                route.key,
            )
        failure = self.faults.failure_for(method, path, body, params, network=network)
        if failure:
            return (
                failure["status"],
                problem(failure["status"], failure["detail"], failure.get("title")),
                route.key,
            )
        handler = HANDLERS.get(route.key)
        if handler is None:
            return 404, problem(404, f"The emulator does not implement {route.key}"), route.key
        try:
            with self.lock:
                try:
                    result = handler(Context(self, account, params, copy.deepcopy(body), query))
                finally:
                    self.changed()
        except ApiError as exc:
            if exc.violation:
                self._violation(method, path, f"{exc.detail} {exc.errors or ''}", context)
            return exc.status, exc.problem(), route.key
        except Exception:
            log.exception("Emulator handler failed for %s %s", method, path)
            return 500, problem(500, f"The emulator failed on {method} {path}"), route.key
        status, response = result if isinstance(result, tuple) else (200, result)
        return status, select_fields(response, query), route.key

    def check_response(self, method, path_template, status, body):
        """Messages describing where ``body`` departs from the spec's documented response."""
        route = self.spec.route(f"{method.upper()} {path_template}")
        if route is None:
            return [f"No operation {method} {path_template} in the spec"]
        return route.validate_response(status, body)


def _decode(raw):
    if not raw or not raw.strip():
        return None, None
    try:
        return json.loads(raw.decode("utf-8")), None
    except (ValueError, UnicodeDecodeError):
        return None, "We encountered an unspecified JSON parsing error."


def _event_data(type, member, old_email):
    """The ``data[...]`` fields Mailchimp sends with a member event (``list_id`` is added on delivery). A member is
    named by its ``unique_email_id`` (Mailchimp's samples: ``data[id]`` "8a25ff1d98", ``data[new_id]`` "51da8c3259",
    ten hex digits as that id has; not the 32 of the subscriber hash); a ``cleaned`` event names only the address."""
    if type == "upemail":
        return {"new_id": member["unique_email_id"], "new_email": member["email_address"], "old_email": old_email}
    if type == "cleaned":
        return {"email": member["email_address"], "reason": "hard"}
    data = {"id": member["unique_email_id"], "email": member["email_address"]}
    data.update(email_type=member["email_type"], ip_opt=member["ip_opt"],
                merges=dict(member["merge_fields"], EMAIL=member["email_address"]))
    if type == "unsubscribe":
        data.update(action="unsub", reason="manual")
    return data


def _flatten(prefix, value):
    if isinstance(value, dict):
        items = {}
        for key, inner in value.items():
            items.update(_flatten(f"{prefix}[{key}]", inner))
        return items
    return {prefix: "" if value is None else str(value)}
