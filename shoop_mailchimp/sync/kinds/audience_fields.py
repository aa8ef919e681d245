"""The audience's merge fields as the shop keeps them: storing a read of them (a mapped field renamed in Mailchimp is
followed, one deleted and made again is sent again), and queueing every contact again when what a member write
carries changes. The contact kind learns a changed audience from a refused write (:class:`AudienceFieldsLearnt`);
the account check and the "create missing merge fields" job (:mod:`shoop_mailchimp.merge_field_setup`) store what
they read through :func:`store_merge_fields`.

Whatever changes what a member write carries (the audience's fields, the mapping) queues every contact
again: those whose payload did not change close without a request.
"""
from django.db import transaction
from django.utils import timezone

from shoop_mailchimp.journal import log_event
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.kinds import merge_fields


def member_write_inputs(configuration):
    """What decides a member's merge fields and tags besides the contact: compared before and after a change
    (the audience's fields read, the mapping or the tag rules saved). A field is its tag, type and merge id: one
    deleted in Mailchimp and made again (its values went with it), of another type or of the same, sends the
    members again."""
    return (sorted((key, field["tag"], field.get("type") or "", field.get("merge_id"))
                   for key, field in merge_fields.effective_map(configuration).items()),
            configuration.customer_tag, configuration.company_tag, sorted(configuration.tag_group_ids or ()))


def inputs_changed(before, after):
    """Whether what member writes carry changed from ``before`` to ``after`` (:func:`member_write_inputs`). A merge id
    learnt for a field known without one (read before the shop kept them) is no change: the field is the same."""
    unknown = {entry[:3] for entry in before[0] if entry[3] is None}
    fields_after = [entry[:3] + (None,) if entry[:3] in unknown else entry for entry in after[0]]
    return before != (fields_after,) + tuple(after[1:])


def resend_if_changed(configuration, before):
    """Queue every contact again when what member writes carry changed since ``before`` (payloads that did not
    change close without a request; a member whose field was made again is written again, see
    :func:`shoop_mailchimp.sync.kinds.merge_fields.filled_field_ids`); returns whether it did. A field the shop
    created and no longer fills is remembered, to be sent empty once to each member written before (its last value
    would linger)."""
    if not inputs_changed(before, member_write_inputs(configuration)):
        return False
    clears = merge_fields.unmapped_created(configuration, [field[1] for field in before[0]], timezone.now())
    if clears != configuration.merge_fields_to_clear:
        configuration.merge_fields_to_clear = clears
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(merge_fields_to_clear=clears)
    if not configuration.is_initialized:
        return False
    state.resend_all(configuration.shop_id, SyncKind.CONTACT)
    return True


def renamed_tags(before, after):
    """{old tag: new tag} of the fields read ``before`` that the audience now has under another tag (a marketer
    renamed the merge tag in Mailchimp: same merge id, values kept)."""
    now = {field.get("merge_id"): field["tag"] for field in after or () if field.get("merge_id") is not None}
    return {field["tag"]: now[field["merge_id"]] for field in before or ()
            if field.get("merge_id") in now and now[field["merge_id"]] != field["tag"]}


def follow_renamed(configuration, fields, merge_field_map):
    """The mapping to store with the audience's ``fields`` read again: a mapped field whose tag a marketer renamed
    in Mailchimp keeps receiving the shop's data under its new tag (followed by merge id; Mailchimp ignores the
    old tag silently); the fields the shop created follow too. Logs what it followed; returns the mapping (None:
    unchanged)."""
    renamed = renamed_tags(configuration.audience_merge_fields, fields)
    if not renamed:
        return merge_field_map
    mapping = merge_field_map if merge_field_map is not None else (
        merge_fields.chosen_map(configuration) if configuration.audience_merge_fields is not None else None)
    followed = {key: renamed[tag] for key, tag in (mapping or {}).items() if tag in renamed}
    created = set(configuration.created_merge_fields or ())
    if created & set(renamed):
        configuration.created_merge_fields = sorted(renamed.get(tag, tag) for tag in created)
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
            created_merge_fields=configuration.created_merge_fields)
    if not followed:
        return merge_field_map
    for key, tag in sorted(followed.items()):
        label = merge_fields.BY_KEY[key].label if key in merge_fields.BY_KEY else key
        log_event(configuration.shop_id, "merge_fields.renamed", "The audience's merge field *|%s|* is now called "
                  "*|%s|* in Mailchimp (the same field, merge id %s): the shop's %s goes to *|%s|*, and every contact "
                  "is sent again" % (mapping[key], tag, _merge_id(fields, tag), label, tag), kind=LogKind.WARNING)
    return dict(mapping, **followed)


def remade_tags(before, after, mapping):
    """The mapped tags whose field has another merge id than when read ``before``: deleted in Mailchimp (with
    their values) and made again."""
    was = {field["tag"]: field.get("merge_id") for field in before or ()}
    return sorted(field["tag"] for field in after or () if field["tag"] in set((mapping or {}).values())
                  and was.get(field["tag"]) is not None and field.get("merge_id") not in (None, was[field["tag"]]))


def _merge_id(fields, tag):
    return next((field.get("merge_id") for field in fields or () if field["tag"] == tag), None)


def store_merge_fields(configuration, fields, merge_field_map=None):
    """Keep the audience's fields (and a new mapping); queue every contact again when member writes change. A
    mapped field renamed in Mailchimp is followed by its merge id (:func:`follow_renamed`)."""
    merge_field_map = follow_renamed(configuration, fields, merge_field_map)
    remade = remade_tags(configuration.audience_merge_fields, fields, merge_fields.chosen_map(configuration)
                         if configuration.audience_merge_fields is not None else {})
    if remade:
        log_event(configuration.shop_id, "merge_fields.remade", "The audience's merge field(s) %s were deleted in "
                  "Mailchimp and made again (another merge id, their values gone): every contact is sent again, and "
                  "the members that had a value get it again" % ", ".join("*|%s|*" % tag for tag in remade),
                  kind=LogKind.WARNING)
    before = member_write_inputs(configuration)
    configuration.audience_merge_fields = fields
    configuration.merge_fields_read_on = timezone.now()
    changes = dict(audience_merge_fields=fields, merge_fields_read_on=configuration.merge_fields_read_on)
    if merge_field_map is not None:
        configuration.merge_field_map = changes["merge_field_map"] = merge_field_map
    with transaction.atomic():
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(**changes)
        resend_if_changed(configuration, before)


def same_fields(fields, other):
    """Whether two reads of the audience's merge fields are the same (in any order)."""
    def by_tag(read):
        return sorted((read or []), key=lambda field: str(field.get("tag")))
    return other is not None and by_tag(fields) == by_tag(other)


class AudienceFieldsLearnt:
    """A member write refused for its merge fields (a marketer replaced a mapped field by one of another type):
    the shop re-reads the audience's fields by itself, as the account check does, and every contact is sent
    again with the mapping they give, with no admin to act. Learnt by a send (``Outcome.learnt``), recorded as its
    row closes: ``fields`` read by the send, or, where it could not read them (a batch), read here unless they
    were read since ``asked_at``."""

    def __init__(self, fields=None, asked_at=None):
        self.fields = fields
        self.asked_at = asked_at

    def remember(self, configuration):
        fields = self.fields
        if fields is None:
            if configuration.merge_fields_read_on and self.asked_at and configuration.merge_fields_read_on >= \
                    self.asked_at:
                return  # read again since that write was sent (by another row's refusal)
            try:
                with open_session(configuration) as session:
                    fields = resources.list_merge_fields(session, configuration.list_id)
            except MailchimpError:
                return  # the row is tried again, and its refusal asks again
        store_merge_fields(configuration, fields)
