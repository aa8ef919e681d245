"""Delivering contact groups: one Mailchimp interest per group, renamed and deleted with it."""
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from shuup.core.models import ContactGroup

from shoop_mailchimp.mailchimp import interests
from shoop_mailchimp.models import ContactGroupInterest, SyncState, SyncStatus


def deliver_group(client, configuration, row, journal):
    list_id, category_id = configuration.list_id, configuration.interest_category_id
    group = ContactGroup.objects.filter(pk=row.object_id).first()
    mapping = ContactGroupInterest.objects.filter(shop_id=configuration.shop_id, group_id=row.object_id).first()
    if group is None:
        if mapping:
            interests.delete_interest(client, list_id, category_id, mapping.interest_id)
            journal.add("interest.delete", "Interest %r deleted with its group" % mapping.name)
            mapping.delete()
        return "removed", None
    name = interests.interest_name(group_name(group.pk), group.pk)
    taken = ContactGroupInterest.objects.filter(shop_id=configuration.shop_id, name=name).exclude(group_id=group.pk)
    if taken.exists():
        name = interests.interest_name("%s (%s)" % (name[:90], group.pk), group.pk)
    if mapping is None:
        mapping = ContactGroupInterest(shop_id=configuration.shop_id, group_id=group.pk)
        interest_id = interests.existing_interests(client, list_id, category_id).get(name)
        if interest_id is None:
            interest_id = interests.create_interest(client, list_id, category_id, name)
            journal.add("interest.create", "Interest %r created for group %s" % (name, group.pk))
        mapping.interest_id, mapping.name = interest_id, name
        mapping.save()
        resend_members(configuration.shop_id, group.pk)
    elif mapping.name != name:
        interests.rename_interest(client, list_id, category_id, mapping.interest_id, name)
        journal.add("interest.rename", "Interest %r renamed to %r" % (mapping.name, name))
        mapping.name = name
        mapping.save(update_fields=["name"])
    return "synced", None


def resend_members(shop_id, group_id):
    """Members already sent (or being sent) without the group's new interest are sent again."""
    member_ids = ContactGroup.members.through.objects.filter(contactgroup_id=group_id).values("contact_id")
    rows = SyncState.objects.contacts().filter(shop_id=shop_id, object_id__in=member_ids, erase=False)
    rows.filter(status=SyncStatus.SYNCED).update(status=SyncStatus.PENDING, version=F("version") + 1,
                                                 next_attempt_at=timezone.now())
    rows.filter(status=SyncStatus.SENDING).update(version=F("version") + 1)


def group_name(group_id):
    """The group's name in the default language, read from the table: parler's cache may lag a rename."""
    names = dict(ContactGroup._parler_meta.root_model.objects.filter(master_id=group_id).values_list(
        "language_code", "name"
    ))
    return names.get(settings.PARLER_DEFAULT_LANGUAGE_CODE) or next(iter(names.values()), "")


def shop_groups(shop):
    """The groups a shop's contacts can be in: the shop's own and the shared ones."""
    return ContactGroup.objects.filter(Q(shop=shop) | Q(shop__isnull=True))
