"""The tags the shop's rules give a member, and the one request that adds and removes them. Pure, no I/O.

Only tags the shop applied are ever removed (they are remembered on the contact's sync state): a tag the
marketer added by hand in Mailchimp is never touched, even one with the same name as a rule's. A rule's tag
the member already carried when the shop first wanted it was added by hand: it is remembered as *found*, not
sent, and not removed when the rule stops wanting it.

Mailchimp compares tag names without regard to case ("VIP" and "vip" are one tag): so does every comparison
here. A rule's tag that differs from the marketer's only in case is the marketer's, and a rule renamed only in
case keeps the tag the shop applied (removing the old spelling would remove the tag).

A tag request says ``is_syncing`` ("automations based on the tags in the request will not fire") for tags that
only back-fill older facts: while the store imports the shop's history, and for the tags of a rule added after the
contact's tags were last compared with the rules (a "customer" rule ticked a year in tags every past customer, and a
marketer's "tag added" journey must not mail them all at once). A tag a fact changed since then brings (a first
order, a new contact, a group joined) starts the automations as before.
"""
from django.utils.dateparse import parse_datetime

from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import Operation

#: Mailchimp's limit on a tag's name.
MAX_TAG_LENGTH = 100


def clean_tag(name):
    return " ".join((name or "").split())[:MAX_TAG_LENGTH]


def tag_key(name):
    """What Mailchimp tells tags apart by: the name regardless of case."""
    return name.casefold()


def by_key(names):
    """{tag_key: name}; of names the same but for case, the first in sorted order stands for them."""
    keyed = {}
    for name in sorted(names):
        keyed.setdefault(tag_key(name), name)
    return keyed


def without(names, *others):
    """The names none of ``others`` holds, regardless of case."""
    taken = {tag_key(name) for other in others for name in other}
    return {name for name in names if tag_key(name) not in taken}


def same_tags(names, other):
    return set(by_key(names)) == set(by_key(other))


def wanted_tags(configuration, is_company, order_count, group_names):
    """The tags the rules give a contact. ``group_names``: {group id: name} of the contact's groups. Two rules
    giving the same tag but for case give it once."""
    tags = set()
    if configuration.customer_tag and order_count:
        tags.add(clean_tag(configuration.customer_tag))
    if configuration.company_tag and is_company:
        tags.add(clean_tag(configuration.company_tag))
    for group_id in configuration.tag_group_ids or ():
        if group_id in group_names:
            tags.add(clean_tag(group_names[group_id]))
    tags.discard("")
    return set(by_key(tags).values())


def rule_keys(configuration):
    """The configuration's tag rules, each named by what it gives: the customers' and the companies' rules by their
    tag (another tag is another rule, new to every member), a group's by the group."""
    keys = {"group:%d" % group_id for group_id in configuration.tag_group_ids or ()}
    for rule, name in (("customer", configuration.customer_tag), ("company", configuration.company_tag)):
        if clean_tag(name):
            keys.add("%s:%s" % (rule, tag_key(clean_tag(name))))
    return keys


def rules_added(recorded, before, after, now):
    """The configuration's ``tag_rules_added`` ({rule key: when added}) after its rules changed from ``before`` to
    ``after`` (:func:`rule_keys`): a new rule is added ``now``, a kept one keeps its moment, a dropped one is
    forgotten (added again, it is new again). A rule older than these moments (none recorded) back-fills nothing."""
    added = {key: since for key, since in (recorded or {}).items() if key in after}
    added.update({key: now.isoformat() for key in set(after) - set(before)})
    return added or None


def rule_moments(configuration, group_names):
    """{tag key: when the rule giving it was added} of the rules with a recorded moment; ``group_names``: {group id:
    name} of the contact's groups. Of two rules giving one tag, the later counts."""
    recorded = configuration.tag_rules_added or {}
    named = [("group:%d" % group_id, group_names[group_id])
             for group_id in configuration.tag_group_ids or () if group_id in group_names]
    for rule, name in (("customer", configuration.customer_tag), ("company", configuration.company_tag)):
        if clean_tag(name):
            named.append(("%s:%s" % (rule, tag_key(clean_tag(name))), name))
    moments = {}
    for rule, name in named:
        since = parse_datetime(recorded.get(rule) or "")
        key = tag_key(clean_tag(name))
        if since and key:
            moments[key] = max(since, moments.get(key, since))
    return moments


def backfilled(names, moments, compared_at):
    """The ``names`` whose rule was added after the contact's tags were last compared with the rules
    (``compared_at``): they stand for facts that held before the rule existed. A contact never compared (a new
    contact) has none."""
    if compared_at is None:
        return set()
    return {name for name in names if tag_key(name) in moments and compared_at < moments[tag_key(name)]}


def parse_tags(text):
    """The tags a sync state row remembers (one a line)."""
    return {line for line in (text or "").split("\n") if line}


def format_tags(tags):
    return "\n".join(sorted(tags))


def member_tags(member):
    """The names of the tags a member Mailchimp returned carries, or None when it did not say."""
    listed = (member or {}).get("tags")
    return None if listed is None else {tag.get("name", "") for tag in listed}


class TagChange:
    """What the shop's tags request does to one member, and what the row remembers after it.

    ``carried``: the member's tags as Mailchimp just returned them (None when the member was not written:
    then the row's ``found`` tags stand for those added by hand). ``backfill``: the wanted tags a rule added since
    the contact's tags were last compared gives (:func:`backfilled`)."""

    def __init__(self, wanted, applied, found, carried=None, backfill=()):
        wanted, applied = by_key(wanted), by_key(applied)
        by_hand = set(by_key(carried)) - set(applied) if carried is not None else set(by_key(found))
        found_keys = (set(wanted) - set(applied)) & by_hand
        self.found = {wanted[key] for key in found_keys}
        self.add = {wanted[key] for key in set(wanted) - set(applied) - found_keys}
        self.remove = {applied[key] for key in set(applied) - set(wanted)}
        self.applied = {wanted[key] for key in set(applied) & set(wanted)} | self.add
        backfill_keys = {tag_key(name) for name in backfill}
        self.backfill = {name for name in self.add if tag_key(name) in backfill_keys}

    def operations(self, list_id, email, syncing=False):
        """The POSTs adding and removing the shop's tags (none when nothing changes). The tags that back-fill older
        facts go in a request of their own that says ``is_syncing``, so that they start no tag automation ("automations
        based on the tags in the request will not fire"); the others (fresh facts, and the removals) in another
        without it. ``syncing``: the store imports the shop's history (``store_syncing``): every tag back-fills, as
        the store's ``is_syncing`` keeps its orders from mailing anyone."""
        def changes(added, removed=()):
            return ([{"name": name, "status": "active"} for name in sorted(added)]
                    + [{"name": name, "status": "inactive"} for name in sorted(removed)])

        requests = [(changes(self.add, self.remove), True)] if syncing else [
            (changes(self.backfill), True), (changes(set(self.add) - self.backfill, self.remove), False)]
        return [Operation("POST", member_path(list_id, email) + "/tags",
                          {"tags": body, "is_syncing": True} if is_syncing else {"tags": body})
                for body, is_syncing in requests if body]
