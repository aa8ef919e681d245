"""A contact group saved, renamed or deleted (Mailchimp interests), and its members added or removed (the
members are sent again where the group is an interest, a tag or a merge field)."""
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from shuup.core.models import ContactGroup

from shoop_mailchimp.models import ContactGroupInterest, SyncKind
from shoop_mailchimp.receivers.recording import record, record_facts_changed
from shoop_mailchimp.shops import recording_shop_ids, shop_ids_for_contact
from shoop_mailchimp.sync.kinds.group import concerns_mailchimp, membership_matters, names_members

GROUP_MEMBERS_UID = "shoop_mailchimp.group_members_changed"
GROUP_SAVED_UID = "shoop_mailchimp.group_saved"
GROUP_RENAMED_UID = "shoop_mailchimp.group_renamed"
GROUP_DELETED_UID = "shoop_mailchimp.group_deleted"
GROUP_DELETING_UID = "shoop_mailchimp.group_deleting"


def group_members_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Both directions: ``group.members.add(contact)`` and ``contact.groups.add(group)``; only groups that are
    (or were) interests, or that members carry by name (tags, a merge field), matter (Shuup puts every new
    person in its default group: no second send for that).

    ``group.members.clear()`` names no contacts afterwards, so its members are read before.
    """
    if reverse:  # instance is the contact
        if action in ("post_add", "post_remove", "post_clear"):
            for shop_id in shop_ids_for_contact(instance):
                if pk_set is None or membership_matters(shop_id, pk_set):
                    record_facts_changed(shop_id, [instance.pk])
        return
    if action == "pre_clear":
        pk_set = set(instance.members.values_list("pk", flat=True))
    elif action not in ("post_add", "post_remove"):
        return
    for shop_id in _shop_ids_for_group(instance):
        if membership_matters(shop_id, [instance.pk]):
            record_facts_changed(shop_id, pk_set or [])


def _shop_ids_for_group(group):
    shop_ids = recording_shop_ids()
    return [group.shop_id] if group.shop_id in shop_ids else (shop_ids if group.shop_id is None else [])


def group_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    for shop_id in _shop_ids_for_group(instance):
        if concerns_mailchimp(shop_id, [instance.pk]):
            record(shop_id, SyncKind.GROUP, [instance.pk])


def group_renamed(sender, instance, raw=False, **kwargs):
    """The interest is renamed; members who carry the group's name (a tag, a merge field) are sent again."""
    if raw or instance.master_id is None:
        return
    group_saved(ContactGroup, instance.master)
    for shop_id in _shop_ids_for_group(instance.master):
        if names_members(shop_id, [instance.master_id]):
            record_facts_changed(shop_id, instance.master.members.values_list("pk", flat=True), only_known=True)


def group_deleting(sender, instance, **kwargs):
    """Members who carry the group's name (a tag, a merge field) are sent again without it; read before the
    delete takes the memberships with it."""
    for shop_id in _shop_ids_for_group(instance):
        if names_members(shop_id, [instance.pk]):
            record_facts_changed(shop_id, instance.members.values_list("pk", flat=True), only_known=True)


def group_deleted(sender, instance, **kwargs):
    for shop_id in _shop_ids_for_group(instance):
        if ContactGroupInterest.objects.filter(shop_id=shop_id, group_id=instance.pk).exists():
            record(shop_id, SyncKind.GROUP, [instance.pk])


def connect():
    m2m_changed.connect(group_members_changed, sender=ContactGroup.members.through, dispatch_uid=GROUP_MEMBERS_UID)
    post_save.connect(group_saved, sender=ContactGroup, dispatch_uid=GROUP_SAVED_UID)
    post_save.connect(group_renamed, sender=ContactGroup._meta.get_field("translations").related_model,
                      dispatch_uid=GROUP_RENAMED_UID)
    post_delete.connect(group_deleted, sender=ContactGroup, dispatch_uid=GROUP_DELETED_UID)
    pre_delete.connect(group_deleting, sender=ContactGroup, dispatch_uid=GROUP_DELETING_UID)
