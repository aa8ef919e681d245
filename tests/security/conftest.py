import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from shuup.admin.utils.permissions import set_permissions_for_group

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION


def staff_member(shop, username, permissions):
    """Staff of ``shop`` with the given Mailchimp permissions (and the shop and contact pages)."""
    user = get_user_model().objects.create_user(username, "%s@example.com" % username, "pw", is_staff=True)
    shop.staff_members.add(user)
    group = Group.objects.create(name="%s-group" % username)
    set_permissions_for_group(group, set(permissions) | {"shop.edit", "contact.detail"})
    user.groups.add(group)
    return user


@pytest.fixture
def viewer(shop):
    return staff_member(shop, "viewer", [VIEW_PERMISSION])


@pytest.fixture
def manager(shop):
    return staff_member(shop, "manager", [VIEW_PERMISSION, MANAGE_PERMISSION])
