import pytest

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION
from tests.helpers import staff_member


@pytest.fixture
def viewer(shop):
    return staff_member(shop, "viewer", [VIEW_PERMISSION])


@pytest.fixture
def manager(shop):
    return staff_member(shop, "manager", [VIEW_PERMISSION, MANAGE_PERMISSION])
