"""The drift report on the status page: the last reconciliation, what it found per category, and the
members the shop does not know, with an export a spreadsheet cannot run."""
import csv
import io
import re

import pytest
from django.urls import reverse

from shoop_mailchimp.admin_module.drift import CATEGORY_LABELS
from shoop_mailchimp.admin_module.permissions import VIEW_PERMISSION
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob
from shoop_mailchimp.reconciliation import CATEGORIES
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import new_person, staff_member

pytestmark = pytest.mark.django_db

STATUS = "shuup_admin:shoop_mailchimp.status"
HOSTILE = "=HYPERLINK(\"http://evil.example\")@fastmail.com"


def page_text(client):
    response = client.get(reverse(STATUS))
    assert response.status_code == 200
    return response.content.decode("utf-8")


def test_every_category_has_words():
    assert set(CATEGORY_LABELS) == set(CATEGORIES)


def test_the_report_shows_what_a_full_reconciliation_found(admin_client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    assert "No reconciliation has run yet." in page_text(admin_client)
    person = new_person(permission=True)
    drain()
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")
    emulator.add_members(api_key, list_id, [HOSTILE, "stranger@fastmail.com"])

    response = admin_client.post(reverse("shuup_admin:shoop_mailchimp.reconcile"), {"full": "1"})
    assert response.status_code == 302
    job = MailchimpJob.objects.get(kind=JobKind.RECONCILE)
    assert (job.status, job.params) == (JobStatus.QUEUED, {"full": True})
    run_due_work(configuration.shop_id)

    html = page_text(admin_client)
    start = html.index('id="mailchimp-drift-table"')
    table = html[start:html.index("</table>", start)]
    counts = dict(re.findall(r'<tr class="drift-(\w+)[^"]*"><td>.*?</td>\s*<td class="text-right">(\d+)', table))
    assert counts == dict(dict.fromkeys(CATEGORIES, "0"), unsubscribed="1", unknown="2")
    assert 'class="drift-unsubscribed table-warning"' in table
    assert 'class="drift-cleaned"><td>' in table
    assert "Members in the audience the shop does not know" in table
    assert ">2 <a" in table  # two strangers, and the export
    assert "HYPERLINK" not in html  # addresses go to the export only

    def exported():
        export = admin_client.get(reverse("shuup_admin:shoop_mailchimp.unknown_members"))
        assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8"))))
        assert rows[0] == ["email_address"]
        return sorted(row[0] for row in rows[1:])

    assert exported() == sorted(["'" + HOSTILE, "stranger@fastmail.com"])
    # An incremental pass reads only what changed: the strangers counted by the full one stay on the page.
    admin_client.post(reverse("shuup_admin:shoop_mailchimp.reconcile"))
    run_due_work(configuration.shop_id)
    assert MailchimpJob.objects.filter(kind=JobKind.RECONCILE, status=JobStatus.DONE).count() == 2
    html = page_text(admin_client)
    assert ">2 <a" in html
    assert "Reconcile with Mailchimp" not in html, "the last jobs listed are the admin's own, not the reconciliations"
    assert exported() == sorted(["'" + HOSTILE, "stranger@fastmail.com"])


def test_only_those_who_manage_the_sync_reconcile_or_export(client, shop, configuration, mailchimp_account):
    viewer = staff_member(shop, "viewer", {VIEW_PERMISSION})
    client.force_login(viewer)
    assert "Reconcile now" not in page_text(client)
    assert client.post(reverse("shuup_admin:shoop_mailchimp.reconcile")).status_code == 400  # Shuup's refusal page
    assert not MailchimpJob.objects.filter(kind=JobKind.RECONCILE).exists()
    assert client.get(reverse("shuup_admin:shoop_mailchimp.unknown_members")).status_code == 400


def test_no_reconciliation_while_sending_is_off(admin_client, shop, configuration):
    configuration.enabled = False
    configuration.save()
    admin_client.post(reverse("shuup_admin:shoop_mailchimp.reconcile"))
    assert not MailchimpJob.objects.filter(kind=JobKind.RECONCILE).exists()
    export = admin_client.get(reverse("shuup_admin:shoop_mailchimp.unknown_members"))
    assert export.status_code == 200 and export.content.decode("utf-8").splitlines() == ["email_address"]


def test_the_initialize_preview_shows_mailchimps_texts_as_text(admin_client, shop, mailchimp_settings,
                                                               mailchimp_account):
    from shoop_mailchimp.models import MailchimpConfiguration
    from shoop_mailchimp.sync.jobs import run_due_jobs

    emulator, api_key, _list_id = mailchimp_account
    list_id = emulator.add_list(api_key, name='<script>alert("audience")</script>')
    MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    admin_client.post(reverse("shuup_admin:shoop_mailchimp.initialize", kwargs={"pk": shop.pk}))
    run_due_jobs(shop.pk)
    html = page_text(admin_client)
    assert 'id="mailchimp-preview-table"' in html
    assert '<script>alert("audience")' not in html and "&lt;script&gt;alert(" in html
    assert 'name="confirm_preview"' in html and "Initialize as shown" in html
