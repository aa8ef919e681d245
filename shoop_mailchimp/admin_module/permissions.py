"""Admin permission strings: one to look at the sync, one to change it (Shuup grants them per group)."""
from shuup.admin.utils.permissions import has_permission

VIEW_PERMISSION = "shoop_mailchimp.view"
MANAGE_PERMISSION = "shoop_mailchimp.manage"


def can_view(user):
    return has_permission(user, VIEW_PERMISSION)


def can_manage(user):
    return has_permission(user, MANAGE_PERMISSION)
