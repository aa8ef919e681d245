"""review19: while the shop is disconnected from Mailchimp ("nothing is sent", docs/disconnect.rst), the shop page
still offers "Create these merge fields in the audience", and ticking it makes the drainer create them in the
audience the shop was disconnected from: ``jobs.run_create_merge_fields`` never looks at ``disconnected_on`` (the
webhook move, the sync of existing contacts and the reconciliation do)."""
import pytest

from shoop_mailchimp.models import JobKind
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from tests.admin.conftest import post_shop_form
from tests.disconnect.conftest import url

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_disconnected_shop_creates_no_merge_field_in_mailchimp(admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    request_job(connected.shop_id, JobKind.CHECK_ACCOUNT)
    run_due_jobs(connected.shop_id)
    admin_client.post(url("disconnect"))
    connected.refresh_from_db()
    assert connected.disconnected_on is not None
    before = {field["tag"] for field in emulator.merge_fields(api_key, list_id)}
    assert "SPENT" not in before
    emulator.clear_requests()

    response = post_shop_form(admin_client, connected.shop, create_merge_fields="total_spent")
    assert response.status_code == 302
    run_due_jobs(connected.shop_id)

    writes = [r for r in emulator.requests if r["method"] != "GET"]
    assert writes == [], "the disconnected shop wrote to Mailchimp: %s" % [
        (r["method"], r["path"]) for r in writes]
