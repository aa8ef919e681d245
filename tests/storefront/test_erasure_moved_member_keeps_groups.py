"""Found by independent review aud37 (issue 19), F4 (data, GDPR): an erasure that keeps a member another contact of
the shop has cleared only the mapped merge fields; the erased person's contact-group interests stayed on it for good.
They are switched off in the same write now."""
import pytest
from django.utils import timezone
from shuup.core.models import ContactGroup

from shoop_mailchimp.models import MailchimpConfiguration
from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("upemail_late", [False, True], ids=["upemail-delivered", "upemail-late"])
def test_erased_contacts_group_interests_leave_her_member_kept_at_anothers_address(
        shop, configuration, mailchimp_account, client, settings, upemail_late):
    """Harm (GDPR data): Vera is erased in the shop, yet her own member in Mailchimp (kept because Bob, another
    contact of the shop, has its address now) stays in the interest of her contact group "Debt collection".

    Steps: Vera, in the shop's group "Debt collection" (the shop sends groups as interests), consents; her member
    is subscribed at vera@ with the group's interest. In Mailchimp's profile page she changes her address to shared@
    (the upemail late, or delivered). Bob, another contact of the shop without consent, has shared@. Vera's account
    is deleted: ``_delete_own_member`` finds her member by its id at shared@ (late upemail) or the row's address is
    shared (delivered); ``_keep_member`` PATCHes only ``merge_fields`` (and the status) -- not ``interests``, as
    ``_clear_member_left`` does for a left member (aud23) -- and Bob's row, sent again (``MemberDataErased``), never
    owned the member and writes none of its data: Vera's group interest stays on the member for good. (Both
    variants fail: the shared ``_keep_member`` path has the gap; the late-upemail one is what ed139d8 added.)"""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    group = ContactGroup.objects.create(identifier="debt-collection-37%d" % upemail_late, shop=shop,
                                        name="Debt collection")
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(tag_group_ids=[group.pk])
    configuration.refresh_from_db()
    tag = "late" if upemail_late else "ontime"
    email, shared = "vera.gr37.%s@fastmail.com" % tag, "shared.gr37.%s@fastmail.com" % tag
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    group.members.add(vera)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    veras = sorted(key for key, on in (member.get("interests") or {}).items() if on)
    assert member["status"] == "subscribed" and veras, "setup: %r" % member.get("interests")
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=shared)
    if not upemail_late:
        assert client.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(timezone.now()), old_email=email, new_email=shared,
            new_id=member["unique_email_id"])).status_code == 200
        send_due(rounds=2)
        assert row_of(vera).email == shared, "setup"
    new_person(permission=False, email=shared, first_name="Bob", last_name="Other")
    send_due(rounds=2)
    assert row_of(vera).unique_email_id == member["unique_email_id"], "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    kept = emulator.get_member(api_key, list_id, shared)
    assert kept is not None and kept["merge_fields"].get("LNAME") != "Secretname", "setup: kept, names cleared"
    still = sorted(key for key, on in (kept.get("interests") or {}).items() if on and key in veras)
    assert not still, ("Vera was erased; her member kept at %s (Bob's address; Bob never wrote it) is still in her "
                       "group's interests %r (status %s, tags %r, language %r)" % (
                           shared, still, kept["status"], [t["name"] for t in kept.get("tags", [])],
                           kept.get("language")))
