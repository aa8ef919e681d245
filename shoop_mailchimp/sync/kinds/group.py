"""Where a ContactGroup becomes a Mailchimp interest under the "Contact Group" category: created,
renamed and deleted with the group, and re-created when someone deleted it in Mailchimp."""
from dataclasses import dataclass
from typing import Optional

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import ugettext_lazy
from shuup.core.models import AnonymousContact, CompanyContact, ContactGroup, PersonContact

from shoop_mailchimp.mailchimp.errors import MailchimpNotFound
from shoop_mailchimp.mailchimp.resources import (
    INTEREST_CATEGORY_TITLE,
    interest_name,
    interests_path,
    list_path,
)
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import ContactGroupInterest, MailchimpConfiguration, SyncKind
from shoop_mailchimp.shops import address_sharers
from shoop_mailchimp.sync.kinds.declarations import AdminItem
from shoop_mailchimp.sync.kinds.merge_fields import effective_map
from shoop_mailchimp.sync.outcome import Outcome
from shoop_mailchimp.sync.transport.direct import drive

KIND = SyncKind.GROUP
#: How the admin names the kind and a failed item of it.
ADMIN = AdminItem(
    title=ugettext_lazy("Contact groups"),
    model=ContactGroup,
    label=lambda group: group.safe_translation_getter("name", any_language=True),
    advice=ugettext_lazy("Check the group's name and the audience's groups in Mailchimp, then press %(button)s."),
)


#: Mailchimp's cap on interests (groups) in one audience, all categories together.
MAX_INTERESTS = 60
#: Groups every person, company or visitor is in: as interests they would segment nothing.
BUILT_IN_GROUPS = tuple(model.default_contact_group_identifier
                        for model in (PersonContact, CompanyContact, AnonymousContact))


def log_target(object_id):
    """A group's entries name no contact or order: the message names the interest."""
    return {}


def shop_groups(shop_id):
    """The groups a shop's contacts can be in: the shop's own and the shared ones."""
    return ContactGroup.objects.filter(Q(shop_id=shop_id) | Q(shop__isnull=True))


def named_groups(configuration):
    """The groups whose names members carry (the groups merge field, the tag groups): the shop's own and the
    shared ones, never another shop's. Shuup's built-in groups (every person, every company is in one) only
    where the shop uses them as groups: chosen as an interest or as a tag group."""
    chosen = set(configuration.interest_group_ids or ()) | set(configuration.tag_group_ids or ())
    return shop_groups(configuration.shop_id).exclude(Q(identifier__in=BUILT_IN_GROUPS) & ~Q(pk__in=chosen))


def interest_groups(configuration):
    """The groups that become interests: those chosen on the shop's Mailchimp settings, or, until some
    are chosen, every group of the shop but Shuup's built-in ones."""
    groups = shop_groups(configuration.shop_id)
    if configuration.interest_group_ids is not None:
        return groups.filter(pk__in=configuration.interest_group_ids)
    return groups.exclude(identifier__in=BUILT_IN_GROUPS)


def _configuration(shop_id):
    return MailchimpConfiguration.objects.filter(shop_id=shop_id).first()


def _named_by(configuration, group_ids):
    return bool(set(group_ids) & set(configuration.tag_group_ids or ())) or "groups" in effective_map(configuration)


def _interest_of(configuration, group_ids):
    return (interest_groups(configuration).filter(pk__in=group_ids).exists()
            or ContactGroupInterest.objects.filter(shop_id=configuration.shop_id, group_id__in=group_ids).exists())


def names_members(shop_id, group_ids):
    """Whether members carry one of these groups' names: as a tag, or in a merge field of their groups."""
    configuration = _configuration(shop_id)
    return bool(configuration) and _named_by(configuration, group_ids)


def concerns_mailchimp(shop_id, group_ids):
    """Whether a change of these groups matters to the shop's audience: one of them is (or was) an interest."""
    configuration = _configuration(shop_id)
    return bool(configuration) and _interest_of(configuration, list(group_ids))


def membership_matters(shop_id, group_ids):
    """Whether joining or leaving these groups changes a member in Mailchimp: an interest (now or before), a
    tag, or the groups merge field. One configuration read: it runs in the request that saves the membership."""
    configuration = _configuration(shop_id)
    group_ids = list(group_ids)
    return bool(configuration) and (_interest_of(configuration, group_ids) or _named_by(configuration, group_ids))


def group_name(group_id):
    """The group's name in the default language, read from the table: parler's cache may lag a rename."""
    translations = ContactGroup._meta.get_field("translations").related_model
    names = dict(translations.objects.filter(master_id=group_id).values_list("language_code", "name"))
    return names.get(settings.PARLER_DEFAULT_LANGUAGE_CODE) or next(iter(names.values()), "")


def unique_interest_name(shop_id, group_id, taken_names):
    """The group's interest name; a second group with the same name gets its id appended."""
    name = interest_name(group_name(group_id), group_id)
    if name in taken_names:
        name = interest_name("%s (%s)" % (name[:90], group_id), group_id)
    return name


def group_member_ids(group_id):
    return list(ContactGroup.members.through.objects.filter(contactgroup_id=group_id).values_list(
        "contact_id", flat=True))


class Context:
    def __init__(self, configuration, rows):
        self.groups = ContactGroup.objects.filter(pk__in=[row.object_id for row in rows]).in_bulk()


def load(configuration, rows):
    return Context(configuration, rows)


def plan(configuration, row, context):
    return GroupPlan(configuration, row, context.groups.get(row.object_id))


@dataclass
class InterestChange:
    """What the shop keeps of a group's interest after a send. The plan only reads; the drainer applies
    it with :func:`remember` as the row closes."""

    group_id: int
    #: The interest's id in Mailchimp, and its name; None: the group has no interest any more.
    interest_id: Optional[str]
    name: str = ""
    #: The interest category was created again: its new id (every other group's interest is then forgotten).
    category_id: str = ""

    def remember(self, configuration):
        """What the drainer calls as the row closes (``Outcome.learnt``)."""
        remember(configuration, self)


def remember(configuration, change):
    """Record an :class:`InterestChange`: Mailchimp made it, whatever became of the row meanwhile."""
    with transaction.atomic():
        mappings = ContactGroupInterest.objects.filter(shop_id=configuration.shop_id)
        if change.category_id:
            MailchimpConfiguration.objects.filter(pk=configuration.pk).update(interest_category_id=change.category_id)
            configuration.interest_category_id = change.category_id
            mappings.exclude(group_id=change.group_id).delete()
        if change.interest_id is None:
            mappings.filter(group_id=change.group_id).delete()
        else:
            ContactGroupInterest.objects.update_or_create(
                shop_id=configuration.shop_id, group_id=change.group_id,
                defaults={"interest_id": change.interest_id, "name": change.name})


class GroupPlan:
    #: An interest's answer (its id) is needed before anything else is sent: never in a batch.
    batchable = False

    def __init__(self, configuration, row, group):
        self.configuration = configuration
        self.row = row
        self.group = group
        self.shop_id = configuration.shop_id

    def run(self, log):
        list_id, category_id = self.configuration.list_id, self.configuration.interest_category_id
        group_id = self.row.object_id
        mapping = ContactGroupInterest.objects.filter(shop_id=self.shop_id, group_id=group_id).first()
        if self.group is not None and not interest_groups(self.configuration).filter(pk=self.group.pk).exists():
            if mapping is None:
                return Outcome.skipped("the group is not one of the groups chosen as Mailchimp interests")
            self.group = None  # no longer chosen: its interest goes, as a deleted group's does
        if self.group is None:
            if mapping:
                try:
                    yield Operation("DELETE", interests_path(list_id, category_id, mapping.interest_id))
                except MailchimpNotFound:
                    pass
                log("interest.delete", "Interest %r deleted (its group was deleted, or is no longer chosen)"
                    % mapping.name)
            outcome = Outcome.removed()
            outcome.learnt.append(InterestChange(group_id, None))
            return outcome
        taken = set(ContactGroupInterest.objects.filter(shop_id=self.shop_id).exclude(
            group_id=group_id).values_list("name", flat=True))
        name = unique_interest_name(self.shop_id, group_id, taken)
        if mapping is not None:
            try:
                outcome = Outcome.synced()
                if mapping.name != name:
                    yield Operation("PATCH", interests_path(list_id, category_id, mapping.interest_id), {"name": name})
                    log("interest.rename", "Interest %r renamed to %r" % (mapping.name, name))
                    outcome.learnt.append(InterestChange(group_id, mapping.interest_id, name))
                else:
                    yield Operation("GET", interests_path(list_id, category_id, mapping.interest_id),
                                    params={"fields": "id"})
                return outcome
            except MailchimpNotFound:
                log("interest.missing", "The interest of group %r was deleted in Mailchimp: it is created again"
                    % name)
        return (yield from self._create(name, log))

    def _create(self, name, log):
        """Create (or find by name) the group's interest, then send its members again with it."""
        configuration = self.configuration
        group_id = self.group.pk
        try:
            interest_id = yield from _find_or_create(configuration.list_id, configuration.interest_category_id, name)
        except MailchimpNotFound:
            # The category itself is gone: re-create it; every group's interest must be found again.
            category_id = yield from find_or_create_category(configuration.list_id)
            log("interest_category.missing", "The %r interest category was deleted in Mailchimp: it was created "
                "again and every group's interest follows" % INTEREST_CATEGORY_TITLE)
            interest_id = yield from _find_or_create(configuration.list_id, category_id, name)
            change = InterestChange(group_id, interest_id, name, category_id=category_id)
            requeue = [(SyncKind.GROUP, list(interest_groups(configuration).exclude(pk=group_id).values_list(
                "pk", flat=True)), False)]
        else:
            change = InterestChange(group_id, interest_id, name)
            requeue = []
        log("interest.create", "Interest %r is mapped to group %s" % (name, group_id))
        outcome = Outcome.synced()
        outcome.learnt.append(change)
        # Members already sent (or being sent) get the new interest, and so does a member one of them shares with
        # another contact of the shop (whichever owns it writes it); never-sent contacts stay unsent.
        members = group_member_ids(group_id)
        outcome.requeue = requeue + [(SyncKind.CONTACT, members, True), (
            SyncKind.CONTACT, sorted(address_sharers(configuration.shop_id, members)), True)]
        return outcome


def find_or_create_category(list_id):
    """The id of the audience's "Contact Group" interest category: found by its title, else created (hidden from
    signup forms). Steps (yields Operations), for the group plan and Initialize alike."""
    path = list_path(list_id) + "/interest-categories"
    answer = yield Operation("GET", path, params={"count": 1000, "fields": "categories.id,categories.title"})
    for category in (answer or {}).get("categories", []):
        if category["title"] == INTEREST_CATEGORY_TITLE:
            return category["id"]
    created = yield Operation("POST", path, {"title": INTEREST_CATEGORY_TITLE, "type": "hidden"})
    return created["id"]


def interests_by_name(list_id, category_id):
    """{name: interest id} of the category (the first of a name). Steps; MailchimpNotFound: the category is gone."""
    answer = yield Operation("GET", interests_path(list_id, category_id),
                             params={"count": 1000, "fields": "interests.id,interests.name"})
    found = {}
    for interest in (answer or {}).get("interests", []):
        found.setdefault(interest["name"], interest["id"])
    return found


def create_interest(list_id, category_id, name):
    """Create an interest named ``name`` in the category; returns its id. Steps."""
    created = yield Operation("POST", interests_path(list_id, category_id), {"name": name})
    return created["id"]


def _find_or_create(list_id, category_id, name):
    """The interest id for ``name`` in the category: an existing one with that name, or a new one."""
    interest_id = (yield from interests_by_name(list_id, category_id)).get(name)
    if interest_id is None:
        interest_id = yield from create_interest(list_id, category_id, name)
    return interest_id


def ensure_group_interests(session, configuration, log):
    """Initialization: the category and one interest per group of the shop; returns (category id, created)."""
    category_id = drive(session, find_or_create_category(configuration.list_id))
    existing = drive(session, interests_by_name(configuration.list_id, category_id))
    valid_ids = set(existing.values())
    mappings = ContactGroupInterest.objects.filter(shop_id=configuration.shop_id)
    known = {mapping.group_id: mapping for mapping in mappings}
    used_names = {mapping.name for mapping in known.values() if mapping.interest_id in valid_ids}
    created = 0
    for group_id in interest_groups(configuration).values_list("pk", flat=True):
        mapping = known.get(group_id)
        if mapping and mapping.interest_id in valid_ids:
            continue
        name = unique_interest_name(configuration.shop_id, group_id, used_names)
        interest_id = existing.get(name)
        if interest_id is None:
            interest_id = drive(session, create_interest(configuration.list_id, category_id, name))
            created += 1
        used_names.add(name)
        ContactGroupInterest.objects.update_or_create(
            shop_id=configuration.shop_id, group_id=group_id, defaults={"interest_id": interest_id, "name": name})
    log("interest.ensure", "Interest category %r with %d new group interests" % (INTEREST_CATEGORY_TITLE, created))
    return category_id, created
