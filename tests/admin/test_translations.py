"""Every string a shop owner reads is translatable; the Finnish catalogue proves it end to end."""
import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.urls import reverse
from django.utils import translation

from tests.helpers import new_person

LOCALE = Path(__file__).resolve().parents[2] / "shoop_mailchimp" / "locale"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def finnish_catalogue():
    with open(LOCALE / "fi" / "LC_MESSAGES" / "django.po", "rb") as po_file:
        return read_po(po_file, locale="fi")


def test_the_finnish_catalogue_is_complete_and_compiled():
    """No message left untranslated or fuzzy, placeholders kept, and the .mo is the .po compiled."""
    catalogue = finnish_catalogue()
    compiled = gettext.GNUTranslations(open(LOCALE / "fi" / "LC_MESSAGES" / "django.mo", "rb"))
    messages = [message for message in catalogue if message.id]
    assert len(messages) > 250
    for message in messages:
        assert message.string and all(message.string) and not message.fuzzy, message.id
        if message.pluralizable:
            singular, plural = message.id
            assert compiled.ngettext(singular, plural, 1) == message.string[0], singular
            assert compiled.ngettext(singular, plural, 2) == message.string[1], plural
        else:
            assert compiled.gettext(message.id) == message.string, message.id
    assert not list(catalogue.check()), "placeholders differ between a message and its translation"


@pytest.fixture
def english_afterwards(settings):
    """The test client leaves the last request's language active in this thread."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_the_admin_speaks_finnish(admin_client, configuration, mailchimp_account, english_afterwards):
    emulator, _api_key, _list_id = mailchimp_account
    emulator.faults.fail_email("hylatty@fastmail.com")
    person = new_person(email="hylatty@fastmail.com")
    finnish = {"HTTP_ACCEPT_LANGUAGE": "fi"}
    status = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status"), **finnish).content.decode()
    assert "1 kohde epäonnistui" in status and "Synkronoi olemassa olevat kontaktit" in status
    assert "Täsmäytys Mailchimpin kanssa" in status and "Täsmäytä nyt" in status
    failed = admin_client.get(reverse("shuup_admin:shoop_mailchimp.failed"), **finnish).content.decode()
    assert "1 kohde epäonnistui." in failed and "Tekniset tiedot" in failed
    contact = admin_client.get(reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk}), **finnish)
    assert "Mailchimp hylkäsi sen" in contact.content.decode()


def test_a_shop_named_in_finnish_only_is_initialized_by_an_english_worker(mailchimp_settings, mailchimp_account):
    from shuup.core.models import Shop, ShopStatus

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import MailchimpConfiguration

    emulator, api_key, list_id = mailchimp_account
    shop = Shop(identifier="vain-suomeksi", status=ShopStatus.ENABLED, currency="EUR")
    shop.set_current_language("fi")
    shop.name = shop.public_name = "Kauppa vain suomeksi"
    shop.save()
    assert list(shop.translations.values_list("language_code", flat=True)) == ["fi"]
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    with translation.override("en"):
        initialize(MailchimpConfiguration.objects.get(pk=configuration.pk))
    configuration.refresh_from_db()
    assert configuration.is_initialized
    assert emulator.get_store(api_key, configuration.store_id)["name"] == "Kauppa vain suomeksi"


def test_no_message_of_ours_is_shadowed_by_shuups_finnish():
    """Django merges every app's catalogue and Shuup's apps come first: a message id Shuup also has
    reads with Shuup's words ("Item" became "Tuote", a product). Each of ours must read as ours."""
    shadowed = []
    with translation.override("fi"):
        for message in finnish_catalogue():
            if not message.id:
                continue
            if message.pluralizable:
                runtime, ours = translation.ngettext(message.id[0], message.id[1], 1), message.string[0]
            else:
                runtime, ours = translation.gettext(message.id), message.string
            if runtime != ours:
                shadowed.append((message.id, runtime))
    assert shadowed == []
