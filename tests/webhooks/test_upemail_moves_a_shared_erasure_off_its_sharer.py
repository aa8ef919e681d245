"""Found by independent review aud57 (issue 19) of dcc101d, F3 (fixed: the contacts whose rows follow a member to an
address count as its holders; data loss): an ``upemail`` heard while a shared erasure waits makes the erasure delete for
good the member another contact of the shop still has.

Harm: Vera (consenting: her send created family@'s member, subscribed) and Carl (no consent) share family@. Vera's
account is deleted: her erasure waits for the worker. The address's owner changes it to new@ on Mailchimp's profile
page; the ``upemail`` webhook reaches the shop. ``member_events.handle_upemail`` now moves the waiting erasure with the
member (``_erasures_learn(..., email=new_email)``, review aud56 F1) and Carl's row too (``apply_mailchimp_fact``), but
Carl's contact keeps family@ (the shop never rewrites a contact's e-mail from Mailchimp). When the worker plans the
erasure, ``held_by_others`` looks for shop contacts holding the row's address, new@: none, so the erasure is not
``shared`` and ``ErasePlan._delete_own_member`` deletes the member permanently (``delete-permanent``: Mailchimp never
takes the address through the API again). Carl's member, with his customer and orders, is gone for good; on the same day
without the ``upemail`` the member is kept for Carl (unsubscribed, Vera's data cleared).

Steps: single audience, DELIVERY=worker. Vera (consenting) is sent, then Carl (no consent) with the same address. Vera
is deleted (erasure recorded, not sent). With ``upemail``: Mailchimp moves the member to new@ and the webhook is
delivered. The worker runs.

Control (``control-no-upemail``, passes): no address change in Mailchimp: the erasure keeps the member for Carl.
Expected in both: a member of Carl's (the one Vera's erasure found) still exists."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("upemail", [False, True], ids=["control-no-upemail", "upemail"])
def test_an_upemail_while_a_shared_erasure_waits_keeps_the_sharers_member(
        configuration, mailchimp_account, settings, upemail):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud57f3@fastmail.com" % upemail
    new = "new.%d.aud57f3@fastmail.com" % upemail
    vera = new_person(permission=True, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    carl = new_person(permission=False, email=family, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, family)
    assert member["status"] == "subscribed" and not row_of(vera).foreign_member, "setup: Vera's own member"
    PersonContact.objects.get(pk=vera.pk).delete()  # the erasure waits for the worker
    where = family
    if upemail:
        emulator.fire_event(api_key, list_id, "upemail", family, new_email=new)
        assert emulator.get_member(api_key, list_id, new), "setup: Mailchimp moved the member"
        assert post_event(Client(), configuration, "upemail", old_email=family, new_email=new,
                          new_id=subscriber_hash(new)).status_code == 200
        where = new
    send_due(rounds=3)
    assert row_of(vera).member_status == "erased", "setup: the erasure ran"
    assert PersonContact.objects.get(pk=carl.pk).email == family
    kept = emulator.get_member(api_key, list_id, where)
    assert kept is not None, (
        "Carl still has %s in the shop, and the member was his too; Vera's erasure deleted it for good at %s "
        "(Carl's row now: %s)" % (family, where, row_of(carl).email))
