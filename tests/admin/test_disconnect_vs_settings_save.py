"""The shop form's save against a Disconnect pressed, or an Initialize finishing, meanwhile (review aud3).

The Initialize now writes only the fields it owns (a80989d), but the shop form still saves the whole configuration
it loaded (``MailchimpFormPart.save``: ``config.save()``), so the same race runs the other way."""
import pytest
from django.test import Client

from shoop_mailchimp.admin_module import form_parts
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.jobs import run_due_jobs
from tests.admin.conftest import post_shop_form, saved, url
from tests.disconnect.conftest import connected  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_settings_save_does_not_undo_a_disconnect_pressed_meanwhile(
        monkeypatch, admin_client, admin_user, connected, mailchimp_account):  # noqa: F811
    """One admin saves the shop page (ticks double opt-in) while another presses Disconnect, confirming the store's
    deletion; the DISCONNECT job runs. The settings save, which loaded the configuration before, writes it all back:
    disconnected_on is cleared, so the shop sends to Mailchimp again -- into a deleted store, with no webhook --
    although the admin disconnected it and the log says so."""
    emulator, api_key, list_id = mailchimp_account
    other_admin = Client()
    other_admin.force_login(admin_user)
    original = form_parts.clean_tag
    pressed = []

    def clean_tag_while_disconnect_is_pressed(name):
        if not pressed:
            pressed.append(True)
            assert other_admin.post(url("disconnect"),
                                    {"mailchimp_delete_store_id": connected.store_id}).status_code == 302
            run_due_jobs(connected.shop_id)
            assert emulator.get_store(api_key, connected.store_id) is None
        return original(name)

    monkeypatch.setattr(form_parts, "clean_tag", clean_tag_while_disconnect_is_pressed)
    assert saved(post_shop_form(admin_client, connected.shop, double_opt_in=True))
    assert pressed
    stored = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert stored.double_opt_in is True
    assert stored.disconnected_on is not None and not stored.is_active, "the disconnect was undone"
    assert stored.store_deleted_on is not None


def test_a_settings_save_does_not_undo_a_reconnect_finished_meanwhile(
        monkeypatch, admin_client, connected, mailchimp_account):  # noqa: F811
    """The shop was disconnected; the admin presses Initialize to reconnect, and while it finishes a colleague saves
    the shop page (loaded while disconnected). The save writes back the old disconnected_on and webhook_id: the
    log says "Initialization finished", Mailchimp has the new webhook, yet the shop stays disconnected and sends
    nothing, with no message saying why."""
    from shoop_mailchimp.initialization import initialize

    assert admin_client.post(url("disconnect")).status_code == 302
    run_due_jobs(connected.shop_id)
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is not None
    original = form_parts.clean_tag
    ran = []

    def clean_tag_while_initialize_finishes(name):
        if not ran:
            ran.append(True)
            initialize(MailchimpConfiguration.objects.get(pk=connected.pk))
            assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is None
        return original(name)

    monkeypatch.setattr(form_parts, "clean_tag", clean_tag_while_initialize_finishes)
    assert saved(post_shop_form(admin_client, connected.shop, double_opt_in=True))
    assert ran
    stored = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert stored.disconnected_on is None and stored.webhook_id, "the reconnect was undone by the settings save"
