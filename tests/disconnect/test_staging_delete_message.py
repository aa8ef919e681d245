"""Found by independent review nu57 (issue 19) of 243957f, F3 (fixed: a held copy's Disconnect says nothing is deleted
in Mailchimp from it). on a staging copy held by the guard, Disconnect and *Delete the store in Mailchimp* answer "The
webhook and the store shuup-shop-1 (its customers, orders and products) are deleted in Mailchimp in a moment", though
the copy deletes nothing in Mailchimp (rightly: docs/disconnect.rst "a Disconnect on the copy disconnects it and asks
Mailchimp for nothing").

Harm: an honest-message failure in the brief's "clean disconnect". The admin of a staging copy who wants the copy's
store gone reads that it is being deleted; only the status page's job outcome says later "nothing was deleted in
Mailchimp". The other way round is worse: an admin who means to clean up production may believe the store is gone.
Reproduced in ``make demo``: a copy of var/demo.sqlite3 served with
SHOOP_MAILCHIMP_DEMO_WEBHOOK_BASE_URL=http://staging.localhost:8158 shows the red banner; pressing Disconnect then
typing shuup-shop-1 and *Delete the store in Mailchimp* flashes the message above; the emulator keeps the store and the
webhook; the log says "Disconnected in the shop (nothing is sent), but nothing was deleted in Mailchimp".

Steps: a connected shop; the site changes (``run_on(settings, STAGING)``); POST the disconnect with the store id.

Control: the same POST on the production site (the project's ``test_disconnect`` tests) deletes both, and the message is
true there."""
import pytest

from tests.admin.conftest import messages_of, url
from tests.disconnect.conftest import STAGING, run_on

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_held_copy_does_not_claim_it_deletes_in_mailchimp(settings, admin_client, connected, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    run_on(settings, STAGING)
    response = admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id}, follow=True)
    said = " ".join(messages_of(response))
    assert emulator.get_store(api_key, connected.store_id) is not None  # rightly kept
    assert "deleted in Mailchimp in a moment" not in said, said
