from django.db import models
from django.utils.translation import ugettext_lazy as _
from jsonfield import JSONField


class SyncStatus:
    PENDING = "pending"
    SENDING = "sending"
    SYNCED = "synced"
    FAILED = "failed"
    SKIPPED = "skipped"
    CHOICES = [
        (PENDING, _("pending")),
        (SENDING, _("sending")),
        (SYNCED, _("synced")),
        (FAILED, _("failed")),
        (SKIPPED, _("skipped")),
    ]


class SyncKind:
    CONTACT = "contact"
    ORDER = "order"
    GROUP = "group"
    PRODUCT = "product"
    PROMO = "promo"
    CART = "cart"
    CHOICES = [(CONTACT, _("contact")), (ORDER, _("order")), (GROUP, _("contact group")), (PRODUCT, _("product")),
               (PROMO, _("coupon campaign")), (CART, _("cart"))]


class ConsentRequest:
    """What a contact's next send must ask of Mailchimp beyond what the shop's consent says."""

    #: Consent was given in the shop since the last send (a box ticked, a form sent): it is sent as a change,
    #: also to a member the shop never told (a former guest buyer, ``transactional``). Cleared by the send.
    SUBSCRIBE = "subscribe"
    #: Consent given with an address not shown to be the giver's (the newsletter block, for an address the shop had
    #: no contact of; a shopper's own consent for an address they never proved theirs, see ``ProvenAddress``): sent
    #: as ``SUBSCRIBE`` to a new member, but a member Mailchimp already holds of the address (a guest buyer,
    #: ``transactional``; someone who left) is asked to confirm by e-mail first (``pending``): the address proves
    #: nothing about who typed it. Cleared by the send, unless the send left the member pending (a link mailed, for
    #: an address Mailchimp held or under double opt-in): then the row keeps ``CONFIRM`` until its owner confirms,
    #: so that no later first send (another audience) subscribes the address outright.
    SIGNUP = "signup"
    #: Asked for where the address proves nothing (the newsletter block for an address the shop knows, an
    #: address another contact of the shop has): Mailchimp mails its owner a confirmation link (``pending``)
    #: whatever the audience's opt-in setting. Kept until the owner confirms (the webhook then records the
    #: consent) or the shop's consent changes.
    CONFIRM = "confirm"
    #: The shopper asked to be unsubscribed (their account page): the member is unsubscribed even where the
    #: shop never recorded their consent (subscribed on another form). Cleared by the send.
    UNSUBSCRIBE = "unsubscribe"
    #: The requests that carry a consent just given in the shop.
    GIVEN = (SUBSCRIBE, SIGNUP)
    CHOICES = [(SUBSCRIBE, _("send the consent given")), (SIGNUP, _("send the consent of an unproven address")),
               (CONFIRM, _("confirm by e-mail first")),
               (UNSUBSCRIBE, _("unsubscribe"))]


class SyncStateQuerySet(models.QuerySet):
    def contacts(self):
        return self.filter(kind=SyncKind.CONTACT)

    def orders(self):
        return self.filter(kind=SyncKind.ORDER)

    def products(self):
        return self.filter(kind=SyncKind.PRODUCT)

    def carts(self):
        return self.filter(kind=SyncKind.CART)


class SyncState(models.Model):
    """What Mailchimp should know about one contact or order of a shop, and how sending it went.

    A receiver bumps ``version`` in the same transaction as the change; a worker claims the row,
    sends the newest state and marks it synced only if no newer change arrived meanwhile.
    """

    shop = models.ForeignKey("shuup.Shop", on_delete=models.CASCADE, related_name="+", verbose_name=_("shop"))
    kind = models.CharField(max_length=16, choices=SyncKind.CHOICES, verbose_name=_("kind"))
    object_id = models.IntegerField(verbose_name=_("object id"))
    status = models.CharField(
        max_length=16, choices=SyncStatus.CHOICES, default=SyncStatus.PENDING, verbose_name=_("status")
    )
    version = models.PositiveIntegerField(default=1, help_text=_("Bumped by every recorded change."))
    claimed_version = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the row was last claimed: what it last sent was built after it "
                                           "(a batch closes its rows minutes later)."))
    claimed_by = models.CharField(max_length=32, blank=True, help_text=_("Token of the claim holding the lease."))
    first_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the row was first claimed, kept across attempts: a member a send "
                                           "of the row creates carries it as its signup time, so that a later "
                                           "attempt knows that member for the row's own however many attempts "
                                           "failed or lost their answer in between."))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    last_error_data = JSONField(null=True, blank=True)
    members_left = JSONField(
        default=list, blank=True,
        help_text=_("Members of the contact's own it left under earlier addresses ({email, unique_email_id}: it moved "
                    "onto an address whose member is another's, or whose own member there was archived): its erasure "
                    "deletes them too."))
    fields_written = JSONField(
        null=True, blank=True, default=None,
        help_text=_("Digests of the last values of each merge field the contact's sends wrote on its member ({tag: "
                    "[digest, ...]}, never the values): an erasure that keeps the member clears only those that still "
                    "hold what the contact's sends wrote, not what its owner typed since. Empty for rows sent before "
                    "it was kept."))
    last_synced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last synced"))
    email = models.CharField(max_length=254, blank=True, verbose_name=_("e-mail last sent"))
    shop_email = models.CharField(
        max_length=254, blank=True, verbose_name=_("contact's e-mail when last sent"),
        help_text=_("Differs from the e-mail last sent when the subscriber changed it in Mailchimp."),
    )
    opt_in = models.NullBooleanField(verbose_name=_("consent last sent"))
    member_status = models.CharField(max_length=32, blank=True, verbose_name=_("member status in Mailchimp"))
    order_statuses = models.CharField(
        max_length=64, blank=True, verbose_name=_("order statuses last recorded"),
        help_text=_("An order's financial and fulfillment status at its last send: Mailchimp sends a notification "
                    "when an order gets a status, so only a changed one is sent again."))
    customer_sent = models.IntegerField(
        null=True, blank=True, verbose_name=_("customer last sent"),
        help_text=_("The contact an order's last send named as its customer: an order moved to another customer "
                    "sends the first one again too (one order fewer)."))
    unique_email_id = models.CharField(
        max_length=64, blank=True, verbose_name=_("Mailchimp member id"),
        help_text=_("Mailchimp's unique_email_id: it stays when the e-mail changes, so a reconciliation "
                    "recognises a member readdressed in Mailchimp."))
    fingerprint = models.CharField(max_length=64, blank=True)
    refused_fingerprint = models.CharField(
        max_length=64, blank=True, help_text=_("What Mailchimp last refused for good: an unchanged save does not send "
                                               "it again (Resend and Sync now do)."))
    erase = models.BooleanField(default=False, help_text=_("Delete the person from Mailchimp instead of sending."))
    mailchimp_fact_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("last Mailchimp event"),
        help_text=_("When the newest event applied from Mailchimp was fired; older events are ignored."),
    )
    consent_sent_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("consent change sent"),
        help_text=_("When a consent change made in the shop last reached Mailchimp; events fired before it "
                    "are older than the shop's decision."),
    )
    consent_changed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("consent changed in the shop"),
        help_text=_("When the contact's consent last changed in the shop (given, withdrawn, or asked for): a "
                    "withdrawal of another contact with the address decided before it does not undo it."),
    )
    consent_requested_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("consent asked for"),
        help_text=_("When the shopper last asked to subscribe (a consent request): asked after the confirmation "
                    "link lapsed, it has Mailchimp mail a fresh one."),
    )
    confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("confirmation link mailed"),
        help_text=_("When the shop last had Mailchimp e-mail the member a link to confirm a subscription (pending); "
                    "the link lapses CONFIRMATION_LIFETIME after it."),
    )
    applied_tags = models.TextField(
        blank=True, verbose_name=_("tags the shop applied"),
        help_text=_("The member's tags this shop added, one a line: only these are ever removed, never a tag "
                    "added in Mailchimp."))
    found_tags = models.TextField(
        blank=True, verbose_name=_("tags found on the member"),
        help_text=_("Tags a rule gives the member that it already carried when the shop first wanted them "
                    "(added in Mailchimp): the shop never removes them."))
    tags_compared_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("tags compared with the rules"),
        help_text=_("When a send of the contact last compared its tags with the shop's tag rules (tags sent, or "
                    "none needed): a rule added after it gives tags for facts older than the rule, sent without "
                    "starting Mailchimp's tag automations."))
    move_sent_to = models.CharField(
        max_length=254, blank=True, verbose_name=_("move sent to"),
        help_text=_("The address a send set out to move the contact's member to, or a first send to create it at "
                    "(noted before its requests went out), until the row learns where the member is: a move or a "
                    "creation whose answer was lost, or whose worker died, may have landed, and the retry (or an "
                    "erasure) looks for the member there."))
    consent_unanswered = models.CharField(
        max_length=16, blank=True, verbose_name=_("consent sent, answer unknown"),
        help_text=_("The status a send asked for the contact's member by the contact's consent (subscribed, or pending "
                    "under double opt-in), noted before its requests went out, until the row learns what became of "
                    "the member: a write whose answer was lost, or whose worker died, may have given it that status. "
                    "Only such a consent counts as carried by a lost attempt."))
    member_written_from = models.DateTimeField(
        null=True, blank=True, verbose_name=_("member last written from"),
        help_text=_("When the member's last write was built (its send's claim): a merge field the shop created and "
                    "unmapped after that moment still holds the shop's value there, and is sent empty once."))
    consent_request = models.CharField(
        max_length=16, blank=True, choices=ConsentRequest.CHOICES, verbose_name=_("consent request"),
        help_text=_("What the next send asks of Mailchimp beyond the shop's consent: send the consent given, "
                    "confirm by e-mail first, or unsubscribe."))
    # None: not known. Not decided yet (the contact has not arrived at an address), or a row sent before the shop
    # recorded whose member it writes: its sends write the member as they did, and a storefront withdrawal of an
    # unproven account ends no subscription there (see receivers.contacts.withdrawal_own_only).
    foreign_member = models.BooleanField(
        null=True, default=None, verbose_name=_("member not the contact's"),
        help_text=_("The member of the address last sent is not this contact's: Mailchimp held it when the contact "
                    "arrived at the address, and its owner did not prove the address theirs. The contact's sends "
                    "write none of its names, merge fields, language, groups or tags there."))
    consent_made = models.BooleanField(
        default=False, verbose_name=_("subscription made by its consent"),
        help_text=_("The consent last sent made the member's subscription: it was sent as a change to a member that "
                    "existed without it (a guest buyer's, someone who had left), and left it subscribed or pending. "
                    "Also where the member is not the contact's: the contact's withdrawal or erasure ends that "
                    "subscription. Cleared when the consent is withdrawn or the contact arrives at another address."))
    subscription_moved_from = models.CharField(
        max_length=254, blank=True, verbose_name=_("subscription moved from"),
        help_text=_("Under double opt-in, the address whose subscribed member a change of the contact's address "
                    "moved to an address nobody proved (its owner asked to confirm): a change back to it (a typo "
                    "corrected) brings the member back subscribed. Cleared when the consent changes."))
    batch_id = models.CharField(max_length=64, blank=True)
    created_on = models.DateTimeField(auto_now_add=True)
    modified_on = models.DateTimeField(auto_now=True)

    objects = SyncStateQuerySet.as_manager()

    class Meta:
        unique_together = [("shop", "kind", "object_id")]
        index_together = [("status", "next_attempt_at"), ("shop", "kind", "status")]
        verbose_name = _("Mailchimp sync state")
        verbose_name_plural = _("Mailchimp sync states")

    def __str__(self):
        return "%s %s: %s" % (self.kind, self.object_id, self.status)
