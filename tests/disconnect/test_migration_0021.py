"""Migration 0021: a configuration initialized before remembers its audience as the one its members are of, so
that choosing another one later forgets them at the Initialize that moves the shop, and only then."""
import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from shuup.core.models import Shop, ShopStatus

from shoop_mailchimp.models import MailchimpConfiguration

migration = importlib.import_module("shoop_mailchimp.migrations.0021_store_deleted_and_audience_of_members")


def configuration(list_id, initialized=True):
    shop = Shop.objects.create(identifier="shop-%s" % Shop.objects.count(), status=ShopStatus.ENABLED)
    return MailchimpConfiguration.objects.create(shop=shop, list_id=list_id,
                                                 initialized_on=timezone.now() if initialized else None)


@pytest.mark.django_db
def test_an_initialized_configuration_remembers_its_audience_as_the_one_its_members_are_of():
    initialized, uninitialized = configuration("list1"), configuration("list2", initialized=False)
    migration.remember_audiences(apps, None)
    assert [MailchimpConfiguration.objects.get(pk=config.pk).members_list_id
            for config in (initialized, uninitialized)] == ["list1", ""]
