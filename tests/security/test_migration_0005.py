"""Migration 0005 turns mirage values into Fernet tokens, the ones mirage stored verbatim too.

The conversion runs on the real table, with the historical models the migration sees: the test
database is built from today's models, so the mirage column is added for the test and removed after.
"""
import importlib

import pytest
from django.db import connection
from django.db.migrations import AddField
from django.db.migrations.loader import MigrationLoader
from shuup.core.models import Shop, ShopStatus
from shuup_mirage_field.crypto import Crypto

from shoop_mailchimp.models import MailchimpConfiguration

pytestmark = pytest.mark.django_db(transaction=True)

APP = "shoop_mailchimp"
migration = importlib.import_module("shoop_mailchimp.migrations.0005_api_key_fernet")

API_KEY = "0123456789abcdef0123456789abcdef-us21"
#: With shuup_workbench's test MIRAGE_SECRET_KEY this key decrypts as it is, so mirage stored it verbatim.
VERBATIM_KEY = "df7a9ca48e6d4d7ddb6c93f00a34e42b-us1"
OTHER_MIRAGE_KEY = "not-the-mirage-key-of-these-settings-0123456789"


@pytest.fixture
def apps_at_conversion(settings):
    """Historical models as the conversion step sees them, with the mirage column in the table."""
    settings.MIGRATION_MODULES = {}  # the test run disables migrations; the loader needs them
    state = MigrationLoader(connection).project_state((APP, "0004_sync_core"))
    for operation in migration.Migration.operations[:2]:
        operation.state_forwards(APP, state)
    # Columns later migrations added: SQLite alters a table by rebuilding it from the historical model,
    # which would drop them for the tests that follow.
    historical = {name for name, _field in state.models[(APP, "mailchimpconfiguration")].fields}
    for field in MailchimpConfiguration._meta.local_fields:
        if field.name not in historical and field.name != "api_key":
            AddField("mailchimpconfiguration", field.name, field.clone()).state_forwards(APP, state)
    model = state.apps.get_model(APP, "MailchimpConfiguration")
    mirage_column = model._meta.get_field("api_key")
    with connection.schema_editor() as editor:
        editor.add_field(model, mirage_column)
    yield state.apps
    with connection.schema_editor() as editor:
        editor.remove_field(model, mirage_column)


def stored_by_mirage(apps, api_key, mirage=None):
    """A configuration row holding what shuup_mirage_field wrote for ``api_key``."""
    shop = Shop.objects.create(identifier="shop-%s" % Shop.objects.count(), status=ShopStatus.ENABLED)
    configurations = apps.get_model(APP, "MailchimpConfiguration").objects
    return configurations.create(shop_id=shop.pk, api_key=mirage.encrypt(api_key) if api_key else "")


def test_mirage_values_become_fernet_tokens_and_back(apps_at_conversion, capsys):
    mirage = Crypto()
    assert mirage.encrypt(VERBATIM_KEY) == VERBATIM_KEY and mirage.decrypt(VERBATIM_KEY) != VERBATIM_KEY, \
        "the mirage flaw this migration repairs: stored verbatim, read back as garbage"
    rows = {
        "plain": stored_by_mirage(apps_at_conversion, API_KEY, mirage),
        "verbatim": stored_by_mirage(apps_at_conversion, VERBATIM_KEY, mirage),
        "other mirage key": stored_by_mirage(apps_at_conversion, API_KEY, Crypto(key=OTHER_MIRAGE_KEY)),
        "none": stored_by_mirage(apps_at_conversion, ""),
    }

    with connection.schema_editor() as editor:
        migration.mirage_to_fernet(apps_at_conversion, editor)

    converted = {name: MailchimpConfiguration.objects.get(shop_id=row.shop_id) for name, row in rows.items()}
    assert converted["plain"].api_key == API_KEY
    assert converted["verbatim"].api_key == VERBATIM_KEY
    assert converted["other mirage key"].api_key_undecryptable, "kept, and reported, rather than lost"
    assert converted["none"].has_api_key is False
    assert "shop(s) %s" % rows["other mirage key"].shop_id in capsys.readouterr().err
    for name in ("plain", "verbatim"):
        token = converted[name].encrypted_api_key
        assert token.startswith("gAAAA") and API_KEY not in token and VERBATIM_KEY not in token, name

    with connection.schema_editor() as editor:
        migration.fernet_to_mirage(apps_at_conversion, editor)

    configurations = apps_at_conversion.get_model(APP, "MailchimpConfiguration").objects
    reverted = {name: configurations.get(pk=row.pk).api_key for name, row in rows.items()}
    assert mirage.decrypt(reverted["plain"]) == API_KEY
    assert reverted["verbatim"] == VERBATIM_KEY, "as mirage itself writes it"
    assert reverted["other mirage key"] == rows["other mirage key"].api_key
    assert reverted["none"] == ""
