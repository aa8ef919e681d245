"""Found by independent review nu57 (issue 19) of 243957f, F1 (fixed: Initialize reads the audience's merge fields, and
the page says "being read" only while a job reads them). "The audience's merge fields are being read from Mailchimp;
reload the page in a moment" while nothing reads them.

Harm: a shop whose configuration was initialized without a save of the shop form since (the demo's own start, ``make
demo``; a shop upgraded from a version before merge fields, migration 0010 adds the columns empty; any configuration
made in code and initialized) shows, on its Mailchimp section, that the fields "are being read" and to "reload the page
in a moment". No job is queued; the drainer, the initialization and the reconciliation never read them (the
reconciliation reads them again only "once the fields were read before"). The owner reloads for ever, and meanwhile the
documented defaults (PHONE, BIRTHDAY, ADDRESS "when they exist") are never sent: only FNAME/LNAME. Seen in ``make
demo``: the fresh demo's shop page says so until the owner happens to press Save; the emulator's members have
``PHONE``/``ADDRESS`` empty.

Steps: an initialized configuration (as the demo's ``configure_shop`` and the ``configuration`` fixture make it); open
the shop page; run every due job and the drainer, as the worker does; open the page again.

Control: once the shop form is saved, a CHECK_ACCOUNT job is queued and the page offers the mapping (the project's own
``test_the_merge_fields_are_read_by_a_job_then_offered_with_mailchimps_defaults``)."""
import pytest

from shoop_mailchimp.models import JobKind
from shoop_mailchimp.sync.jobs import request_job
from tests.admin.conftest import shop_edit_url
from tests.helpers import never_read

pytestmark = pytest.mark.django_db

UNREAD = 'id="mailchimp-merge-fields-unread"'


def test_initialize_reads_the_merge_fields_and_the_page_offers_them(admin_client, configuration, mailchimp_account):
    configuration.refresh_from_db()
    assert {field["tag"] for field in configuration.audience_merge_fields} >= {"FNAME", "LNAME"}
    html = admin_client.get(shop_edit_url(configuration.shop)).content.decode("utf-8")
    assert UNREAD not in html


def test_the_page_says_being_read_only_while_a_job_reads_them(admin_client, configuration, mailchimp_account):
    """A shop whose fields were never read (one upgraded from a version before them): the page says that saving
    reads them; "being read" only once a job that reads them is queued."""
    never_read(configuration)
    html = admin_client.get(shop_edit_url(configuration.shop)).content.decode("utf-8")
    assert UNREAD in html and "save this page to read them" in html and "being read" not in html
    request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    html = admin_client.get(shop_edit_url(configuration.shop)).content.decode("utf-8")
    assert UNREAD in html and "being read from Mailchimp" in html
