"""Migration 0021: a configuration initialized before remembers its audience as the one its members are of, so
that choosing another one later forgets them at the Initialize that moves the shop, and only then."""
import importlib

import pytest
from django.apps import apps

from shoop_mailchimp.models import MailchimpConfiguration
from tests.disconnect.conftest import configuration_of_a_new_shop

migration = importlib.import_module("shoop_mailchimp.migrations.0021_store_deleted_and_audience_of_members")


@pytest.mark.django_db
def test_an_initialized_configuration_remembers_its_audience_as_the_one_its_members_are_of():
    initialized, uninitialized = (configuration_of_a_new_shop(list_id="list1"),
                                  configuration_of_a_new_shop(list_id="list2", initialized=False))
    migration.remember_audiences(apps, None)
    assert [MailchimpConfiguration.objects.get(pk=config.pk).members_list_id
            for config in (initialized, uninitialized)] == ["list1", ""]
