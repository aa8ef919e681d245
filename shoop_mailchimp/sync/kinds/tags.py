"""The tags the shop's rules give a member, and the one request that adds and removes them. Pure, no I/O.

Only tags the shop applied are ever removed (they are remembered on the contact's sync state): a tag the
marketer added by hand in Mailchimp is never touched, even one with the same name as a rule's.
"""
from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import Operation

#: Mailchimp's limit on a tag's name.
MAX_TAG_LENGTH = 100


def clean_tag(name):
    return " ".join((name or "").split())[:MAX_TAG_LENGTH]


def wanted_tags(configuration, is_company, order_count, group_names):
    """The tags the rules give a contact. ``group_names``: {group id: name} of the contact's groups."""
    tags = set()
    if configuration.customer_tag and order_count:
        tags.add(clean_tag(configuration.customer_tag))
    if configuration.company_tag and is_company:
        tags.add(clean_tag(configuration.company_tag))
    for group_id in configuration.tag_group_ids or ():
        if group_id in group_names:
            tags.add(clean_tag(group_names[group_id]))
    tags.discard("")
    return tags


def parse_applied(text):
    """The tags a sync state row remembers (one a line)."""
    return {line for line in (text or "").split("\n") if line}


def format_applied(tags):
    return "\n".join(sorted(tags))


def tags_operation(list_id, email, wanted, applied):
    """The POST that makes the member carry ``wanted`` of the shop's tags, removing those the shop applied
    and no longer wants; None when nothing changes."""
    changes = [{"name": name, "status": "active"} for name in sorted(wanted - applied)]
    changes += [{"name": name, "status": "inactive"} for name in sorted(applied - wanted)]
    if not changes:
        return None
    return Operation("POST", member_path(list_id, email) + "/tags", {"tags": changes})
