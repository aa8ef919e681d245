"""What Initialize (and the first "Sync existing contacts" after it) will do to an audience, counted before
the first Initialize so that a shop owner confirms it knowingly.

Read in a bounded number of requests: the audience, its members one page of 1,000 at a time (addresses
and statuses only), and the store. The contacts are counted by the rules the sync itself applies
(:mod:`shoop_mailchimp.consent` and :func:`shoop_mailchimp.sync.kinds.contact.address_problem`): a contact
whose address is already a member keeps that member's status (a first sync never changes it); a new one
is subscribed (pending, with double opt-in) only with consent. Mailchimp may still refuse an address it
thinks fake; that is found only by sending.
"""
import hashlib
import json
from datetime import timedelta

from django.utils import timezone

from shoop_mailchimp import consent, shop_consent
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.members import mailchimp_email
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpConfiguration, MailchimpJob
from shoop_mailchimp.shops import shop_contacts
from shoop_mailchimp.sync.kinds.contact import address_problem
from shoop_mailchimp.sync.kinds.group import MAX_INTERESTS, interest_groups

#: A preview older than this confirms nothing: the shop's contacts and the audience have moved on.
PREVIEW_MAX_AGE = timedelta(days=1)
#: The contact figures, in the order the admin shows them.
CONTACT_FIGURES = ("existing_member", "subscribed", "pending", "transactional", "shared_address", "no_consent",
                   "no_address", "invalid_address")


def preview(configuration, session):
    """The figures as a JSON-ready dict; raises MailchimpError (a missing audience is MailchimpNotFound)."""
    audience = resources.get_list(session, configuration.list_id)
    statuses, addresses = {}, set()
    for page, _total in resources.member_pages(session, configuration.list_id,
                                               "members.email_address,members.status"):
        for member in page:
            # An archived member is an existing one: the first sync leaves it archived (see docs/consent.rst).
            addresses.add((member.get("email_address") or "").lower())
            statuses[member.get("status", "")] = statuses.get(member.get("status", ""), 0) + 1
    store_id = configuration.store_id or MailchimpConfiguration.default_store_id(configuration.shop)
    store = resources.get_or_none(session, resources.store_path(store_id))
    groups = interest_groups(configuration).count()
    return {
        "list_id": configuration.list_id,
        "audience_name": audience.get("name", ""),
        "members": sum(statuses.values()),
        "member_statuses": statuses,
        "contacts": count_contacts(configuration, addresses),
        "groups": groups,
        "max_interests": MAX_INTERESTS,
        "too_many_groups": groups > MAX_INTERESTS,
        "store_id": store_id,
        "store_exists": store is not None,
        "store_list_id": (store or {}).get("list_id", ""),
    }


def count_contacts(configuration, addresses):
    """How the shop's contacts would reach the audience: {figure: count} (see CONTACT_FIGURES)."""
    figures = dict.fromkeys(CONTACT_FIGURES, 0)
    counted = set()
    contacts = shop_contacts(configuration.shop_id).order_by("pk").values_list("pk", "email", "marketing_permission")
    withheld = shop_consent.withheld(configuration.shop_id)  # consent given in another shop only
    for contact_id, email, permission in contacts:
        if address_problem(email) is not None:
            figures["no_address" if not (email or "").strip() else "invalid_address"] += 1
            continue
        permission, address = bool(permission) and contact_id not in withheld, mailchimp_email(email).lower()
        if not (configuration.send_unconsented or permission):
            figures["no_consent"] += 1
            continue
        if address in counted:
            figures["shared_address"] += 1  # one member for all of them: whichever Mailchimp takes first
        elif address in addresses:
            figures["existing_member"] += 1
        else:
            figures[consent.status_if_new(permission, configuration.double_opt_in)] += 1
        counted.add(address)
    return figures


def preview_params(configuration):
    """The job parameters of a preview: the settings its figures depend on. A preview confirms Initialize
    only while they are unchanged (another audience, key, store id, consent setting or choice of groups
    would make other figures)."""
    settings = [configuration.list_id, configuration.api_key_hint if configuration.has_api_key else "",
                configuration.store_id or MailchimpConfiguration.default_store_id(configuration.shop),
                configuration.double_opt_in, configuration.send_unconsented,
                sorted(interest_groups(configuration).values_list("pk", flat=True))]
    return {"list_id": configuration.list_id,
            "settings": hashlib.sha256(json.dumps(settings).encode("utf-8")).hexdigest()}


def latest_preview(configuration):
    """The newest preview job of the shop made with its current settings (any status), or None."""
    wanted = preview_params(configuration)
    for job in MailchimpJob.objects.filter(shop_id=configuration.shop_id, kind=JobKind.PREVIEW_INITIALIZE)[:10]:
        if (job.params or {}) == wanted:
            return job
    return None


def is_confirmed(configuration, preview_id):
    """Whether ``preview_id`` names the newest finished preview of the current settings, counted within
    PREVIEW_MAX_AGE: Initialize runs only after its figures were shown (Initialize again, once
    initialized, needs none)."""
    if configuration.is_initialized:
        return True
    job = latest_preview(configuration)
    return bool(job and job.status == JobStatus.DONE and str(job.pk) == str(preview_id or "")
                and job.finished_on and job.finished_on > timezone.now() - PREVIEW_MAX_AGE)
