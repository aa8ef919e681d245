"""The tags the shop's rules give a member, and the one request that adds and removes them. Pure, no I/O.

Only tags the shop applied are ever removed (they are remembered on the contact's sync state): a tag the
marketer added by hand in Mailchimp is never touched, even one with the same name as a rule's. A rule's tag
the member already carried when the shop first wanted it was added by hand: it is remembered as *found*, not
sent, and not removed when the rule stops wanting it.

Mailchimp compares tag names without regard to case ("VIP" and "vip" are one tag): so does every comparison
here. A rule's tag that differs from the marketer's only in case is the marketer's, and a rule renamed only in
case keeps the tag the shop applied (removing the old spelling would remove the tag).
"""
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
    then the row's ``found`` tags stand for those added by hand)."""

    def __init__(self, wanted, applied, found, carried=None):
        wanted, applied = by_key(wanted), by_key(applied)
        by_hand = set(by_key(carried)) - set(applied) if carried is not None else set(by_key(found))
        found_keys = (set(wanted) - set(applied)) & by_hand
        self.found = {wanted[key] for key in found_keys}
        self.add = {wanted[key] for key in set(wanted) - set(applied) - found_keys}
        self.remove = {applied[key] for key in set(applied) - set(wanted)}
        self.applied = {wanted[key] for key in set(applied) & set(wanted)} | self.add

    def operation(self, list_id, email, syncing=False):
        """The POST adding and removing the shop's tags; None when nothing changes. ``syncing``: the store imports
        the shop's history (``store_syncing``): the request says ``is_syncing``, so that the tags the rules derive
        from old facts (a first order years ago) start no tag automation ("automations based on the tags in
        the request will not fire"), as the store's ``is_syncing`` keeps its orders from mailing anyone."""
        changes = [{"name": name, "status": "active"} for name in sorted(self.add)]
        changes += [{"name": name, "status": "inactive"} for name in sorted(self.remove)]
        if not changes:
            return None
        body = {"tags": changes}
        if syncing:
            body["is_syncing"] = True
        return Operation("POST", member_path(list_id, email) + "/tags", body)
