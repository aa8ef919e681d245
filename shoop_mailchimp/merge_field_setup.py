"""Reading the audience's merge fields and creating the ones the shop's data lacks, for the jobs behind the
shop form (the account check, "create missing merge fields"). The admin never calls Mailchimp itself. What is
read is stored by :func:`shoop_mailchimp.sync.kinds.audience_fields.store_merge_fields` (which queues the contacts
again when what member writes carry changed).
"""
from django.db import transaction

from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, is_refused_for_good
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.kinds import merge_fields
from shoop_mailchimp.sync.kinds.audience_fields import store_merge_fields


def read_merge_fields(configuration, session):
    store_merge_fields(configuration, resources.list_merge_fields(session, configuration.list_id))


def create_merge_fields(configuration, session, keys):
    """Create a merge field for each of these shop fields and map it; returns (created tags, refusals).

    A field whose tag the audience has meanwhile is mapped to it when its type fits, else left unmapped. Only
    these fields' mapping is written, into the mapping stored when the job ends: a mapping an admin saved while
    the job talked to Mailchimp is kept, also for these fields (one mapped meanwhile to another field keeps it).
    """
    loaded = merge_fields.chosen_map(configuration) if configuration.audience_merge_fields is not None else {}
    fields = {field["tag"]: field for field in resources.list_merge_fields(session, configuration.list_id)}
    created, refusals, mapped = [], [], {}
    for key in keys:
        body = merge_fields.creation_body(key)
        if body["tag"] not in fields:
            try:
                resources.create_merge_field(session, configuration.list_id, body)
            except MailchimpAPIError as error:
                if not is_refused_for_good(error):
                    raise  # a passing failure, or the key refused: the job's, not this field's
                refusals.append("%s: %s" % (body["tag"], error.detail or error.title))
                continue
            created.append(body["tag"])
        mapped[key] = body["tag"]
    audience = resources.list_merge_fields(session, configuration.list_id)
    with transaction.atomic():
        current = MailchimpConfiguration.objects.select_for_update().get(pk=configuration.pk)
        mapping = merge_fields.chosen_map(current) if current.audience_merge_fields is not None else {}
        # A key the admin mapped to another field while the job ran keeps the admin's choice; a key still unmapped,
        # as the job found it, or already on the field created is mapped to it.
        mapping.update({key: tag for key, tag in mapped.items()
                        if mapping.get(key) in (None, "", tag) or mapping.get(key) == loaded.get(key)})
        if created:
            current.created_merge_fields = sorted(set(current.created_merge_fields or ()) | set(created))
            MailchimpConfiguration.objects.filter(pk=current.pk).update(
                created_merge_fields=current.created_merge_fields)
        store_merge_fields(current, audience, mapping)
    for name in ("created_merge_fields", "merge_fields_to_clear", "audience_merge_fields", "merge_fields_read_on",
                 "merge_field_map"):
        setattr(configuration, name, getattr(current, name))
    return created, refusals
