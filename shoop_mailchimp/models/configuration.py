import secrets

from django.db import models
from django.db.models import F, Q
from django.utils.translation import ugettext_lazy as _
from jsonfield import JSONField

from shoop_mailchimp import encryption, sites
from shoop_mailchimp.mailchimp.errors import InvalidAPIKey
from shoop_mailchimp.models.log import MailchimpLogEntry


class APIKeyUndecryptable(InvalidAPIKey):
    """The stored key was encrypted with a key ENCRYPTION_KEYS no longer holds; nothing was sent.

    An :class:`InvalidAPIKey`, so every path that stops on a bad key stops on this one too, and
    says why in the owner's terms.
    """

    def __init__(self):
        super().__init__(
            "The stored API key cannot be decrypted with the configured ENCRYPTION_KEYS: re-enter it or "
            "restore the old key."
        )


def generate_webhook_secret():
    return secrets.token_urlsafe(24)


def connected_audience(configuration):
    """The audience an initialized configuration's store is in (its members' audience), else ""."""
    if configuration.initialized_on is None:
        return ""
    return configuration.members_list_id or configuration.list_id


def held_configuration_ids():
    """The configurations connected to an audience another shop of this installation was connected to first (a
    lower id): a database made before an audience served one shop (``shoop_mailchimp.W009``). They send nothing
    (see :meth:`MailchimpConfiguration.audience_holder`)."""
    first, held = {}, []
    rows = MailchimpConfiguration.objects.filter(initialized_on__isnull=False).order_by("pk").values_list(
        "pk", "list_id", "members_list_id")
    for pk, list_id, members_list_id in rows:
        audience = members_list_id or list_id
        if not audience:
            continue
        if audience in first:
            held.append(pk)
        else:
            first[audience] = pk
    return held


class ConfigurationQuerySet(models.QuerySet):
    def recording(self):
        """Shops whose changes are recorded: initialized, with an audience. Also while nothing is sent (paused,
        disconnected, "Send changes" unticked, the key removed): a change made meanwhile, a consent withdrawn
        above all, is sent when the shop sends again, none is lost."""
        return self.filter(initialized_on__isnull=False).exclude(list_id="")

    def active(self):
        """Shops whose changes are sent: recording, enabled, with a key, connected, on the site they were
        initialized on, not paused by an account error, not waiting for Initialize to move the store to
        another audience chosen, and not in an audience another shop was connected to first."""
        recording = self.recording()
        active = recording.filter(
            sites.on_this_site(recording), Q(members_list_id="") | Q(members_list_id=F("list_id")), enabled=True,
            paused_reason="", disconnected_on__isnull=True).exclude(encrypted_api_key="")
        held = held_configuration_ids()
        return active.exclude(pk__in=held) if held else active


class MailchimpConfiguration(models.Model):
    """A shop's Mailchimp account, audience and eCommerce store."""

    shop = models.OneToOneField(
        "shuup.Shop", on_delete=models.CASCADE, related_name="mailchimp_configuration", verbose_name=_("shop")
    )
    #: A Fernet token (see :mod:`shoop_mailchimp.encryption`); read and write ``api_key`` instead.
    encrypted_api_key = models.TextField(blank=True, default="", editable=False, verbose_name=_("API key (encrypted)"))
    list_id = models.CharField(max_length=64, blank=True, verbose_name=_("audience (list) id"))
    store_id = models.CharField(max_length=64, blank=True, verbose_name=_("eCommerce store id"))
    enabled = models.BooleanField(default=False, verbose_name=_("enabled"))
    double_opt_in = models.BooleanField(
        default=False,
        verbose_name=_("double opt-in"),
        help_text=_("New subscribers get Mailchimp's confirmation e-mail and stay pending until they confirm."),
    )
    send_unconsented = models.BooleanField(
        default=True,
        verbose_name=_("send contacts who did not consent"),
        help_text=_("As transactional members (order history, segments, order e-mails). Mailchimp counts them "
                    "toward the plan's contacts; untick to send only people who consented (and their orders)."),
    )
    send_order_notifications = models.BooleanField(
        default=False,
        verbose_name=_("let Mailchimp send order notifications"),
        help_text=_("Orders then carry their payment and shipping status, and Mailchimp e-mails the customer the "
                    "order notifications turned on in Mailchimp: an order confirmation, an invoice when paid, a "
                    "shipping confirmation, and a cancellation or refund confirmation. Leave it off when the shop "
                    "sends these e-mails itself."),
    )
    initialized_on = models.DateTimeField(null=True, blank=True, verbose_name=_("initialized on"))
    interest_category_id = models.CharField(max_length=64, blank=True)
    webhook_secret = models.CharField(max_length=64, default=generate_webhook_secret)
    webhook_id = models.CharField(max_length=64, blank=True)
    paused_reason = models.TextField(
        blank=True,
        help_text=_("Why sending stopped (a rejected key, a missing audience or store); cleared on repair."),
    )
    audiences = JSONField(null=True, blank=True, help_text=_("The account's audiences as [id, name] pairs, "
                                                            "read by the last account check."))
    account_checked_on = models.DateTimeField(null=True, blank=True, verbose_name=_("account checked on"))
    account_problem = models.TextField(blank=True, help_text=_("What the last account check found wrong."))
    webhook_checked_on = models.DateTimeField(null=True, blank=True, verbose_name=_("webhook checked on"))
    webhook_state = models.CharField(max_length=16, blank=True, choices=[
        ("registered", _("registered")), ("missing", _("missing")), ("unknown", _("could not be checked")),
    ], help_text=_("Whether the audience still calls this shop's webhook, as last checked by the drainer."))
    webhook_problem = models.TextField(blank=True)
    interest_group_ids = JSONField(
        null=True, blank=True, help_text=_("The contact groups chosen to become Mailchimp interests; empty: every "
                                           "group but Shuup's built-in ones."))
    store_syncing = models.BooleanField(
        default=False, help_text=_("The store is marked is_syncing in Mailchimp for an import of history (no order "
                                   "e-mails, no automations); cleared when the import's batches are done."))
    store_syncing_since = models.DateTimeField(
        null=True, blank=True, help_text=_("When the shop began marking the store is_syncing: carts sent since "
                                           "started no automation, and are sent again once the import is done."))
    reconciled_until = models.DateTimeField(
        null=True, blank=True, verbose_name=_("reconciled until"),
        help_text=_("Changes Mailchimp made to members up to this moment have been read by a reconciliation; "
                    "the next one reads those made since."))
    disconnected_on = models.DateTimeField(
        null=True, blank=True, verbose_name=_("disconnected on"),
        help_text=_("An admin disconnected the shop from Mailchimp: nothing is sent, changes are still recorded; "
                    "Initialize reconnects it."))
    store_deleted_on = models.DateTimeField(
        null=True, blank=True, verbose_name=_("store deleted on"),
        help_text=_("A disconnect deleted the shop's store in Mailchimp (or found it gone): only then may another "
                    "audience be chosen. Cleared when Initialize has the store again."))
    members_list_id = models.CharField(
        max_length=64, blank=True, verbose_name=_("audience of the members known"),
        help_text=_("The audience whose members the shop's sync records describe (the one of the last "
                    "initialization): when Initialize creates the store in another audience, they are forgotten."))
    site = models.CharField(
        max_length=255, blank=True, verbose_name=_("site"),
        help_text=_("The site (host) this configuration was initialized on: a copy of the database running "
                    "elsewhere (staging) sends nothing to Mailchimp."))
    site_from_setting = models.BooleanField(
        default=False, verbose_name=_("site named by WEBHOOK_BASE_URL"),
        help_text=_("The site was the host of SHOOP_MAILCHIMP['WEBHOOK_BASE_URL'] (not the shop's domain): a copy of "
                    "the database whose settings do not set it sends nothing to Mailchimp."))
    audience_merge_fields = JSONField(
        null=True, blank=True, help_text=_("The audience's merge fields (tag, name, type, required, options), read "
                                           "from Mailchimp by the last account check; empty until then."))
    merge_fields_read_on = models.DateTimeField(null=True, blank=True, verbose_name=_("merge fields read on"))
    merge_field_map = JSONField(
        null=True, blank=True, help_text=_("Which shop data goes to which merge field ({shop field: merge tag}); "
                                           "empty: FNAME, LNAME, ADDRESS, PHONE and BIRTHDAY where the audience "
                                           "has them."))
    created_merge_fields = JSONField(
        null=True, blank=True, help_text=_("The tags of the merge fields the shop created in the audience: only the "
                                           "shop fills them, so unmapping one clears it on the members."))
    merge_fields_to_clear = JSONField(
        null=True, blank=True, help_text=_("Merge fields the shop created and no longer fills ({tag: when "
                                           "unmapped}): each member written before then is sent them empty once."))
    customer_tag = models.CharField(
        max_length=100, blank=True, verbose_name=_("tag for customers"),
        help_text=_("Tags members who placed an order in this shop; empty: no such tag."))
    company_tag = models.CharField(
        max_length=100, blank=True, verbose_name=_("tag for companies"),
        help_text=_("Tags members who are company contacts; empty: no such tag."))
    tag_group_ids = JSONField(
        null=True, blank=True, help_text=_("The contact groups whose members get a tag named after the group."))
    tag_rules_added = JSONField(
        null=True, blank=True, help_text=_("When each tag rule was added ({rule: when}): the tags it gives contacts "
                                           "last sent before then back-fill older facts, added without starting "
                                           "Mailchimp's tag automations."))
    site_script_enabled = models.BooleanField(
        default=False, verbose_name=_("Mailchimp site script on the storefront"),
        help_text=_("Site tracking, pop-up forms and browse abandonment. With the shop's cookie consent (GDPR) on, "
                    "only for visitors who accepted Mailchimp's cookie (_mcid)."))
    site_script_url = models.CharField(
        max_length=500, blank=True, verbose_name=_("site script"),
        help_text=_("The script of the store's connected site in Mailchimp, read at initialization."))
    modified_on = models.DateTimeField(auto_now=True)

    objects = ConfigurationQuerySet.as_manager()

    class Meta:
        verbose_name = _("Mailchimp configuration")
        verbose_name_plural = _("Mailchimp configurations")

    def __str__(self):
        return "Mailchimp configuration for %s" % self.shop_id

    @property
    def is_initialized(self):
        return self.initialized_on is not None

    @property
    def is_active(self):
        """Sending: also not while another audience is chosen and Initialize has not yet moved the store there
        (what the shop knows of members is of the old audience until then)."""
        return bool(self.enabled and self.is_initialized and self.has_api_key and not self.paused_reason
                    and not self.disconnected_on and self.members_list_id in ("", self.list_id)
                    and not self.site_mismatch and self.audience_holder() is None)

    def audience_holder(self, list_id=None):
        """The configuration of another shop of this installation that the audience ``list_id`` (default: the
        one this shop is connected to, else its chosen one) serves, or None. An audience serves one shop: the
        facts the shop sends of a member (merge fields, tags) are the shop's, and a second shop sending the
        same person would overwrite them (docs/configuration.rst, *One audience, one shop*). It is the one
        connected to it (initialized) already; of two connected to it (a database from before), the first
        configuration (lowest id) keeps it."""
        list_id = list_id or connected_audience(self) or self.list_id
        if not list_id:
            return None
        others = MailchimpConfiguration.objects.filter(initialized_on__isnull=False).filter(
            Q(members_list_id=list_id) | Q(members_list_id="", list_id=list_id))
        if self.pk:
            others = others.exclude(pk=self.pk)
            if connected_audience(self) == list_id:
                others = others.filter(pk__lt=self.pk)
        return others.select_related("shop").order_by("pk").first()

    @property
    def site_here(self):
        """The site this copy of the database runs on, for this shop ("" when unknown)."""
        return sites.site_of(self.shop.domain)

    @property
    def site_params(self):
        """What an Initialize requested here records of this site (see ``sync.jobs.site_refusal``)."""
        return {"site": self.site_here, "site_from_setting": sites.named_by_setting()}

    def learn_site(self):
        """A configuration initialized where no site was known (neither WEBHOOK_BASE_URL nor the shop's domain)
        takes the site this copy runs on the first time it talks to Mailchimp from a known one (the shop got its
        domain): from then on a staging copy of this database, its domain changed, is held as any other
        (:mod:`shoop_mailchimp.sites`). A configuration never initialized, or that knows no site still, learns
        nothing. Returns the site learnt ("" when none); logged as ``site.learnt``."""
        if self.site or not self.initialized_on:
            return ""
        here = self.site_here
        if not here:
            return ""
        from_setting = sites.named_by_setting()
        if not MailchimpConfiguration.objects.filter(pk=self.pk, site="").update(
                site=here, site_from_setting=from_setting):
            self.refresh_from_db(fields=["site", "site_from_setting"])  # another process learnt it first
            return ""
        self.site, self.site_from_setting = here, from_setting
        MailchimpLogEntry.objects.create(
            shop_id=self.shop_id, action="site.learnt", message=(
                "This shop was connected where no site was known; it runs on %s now, the site it is connected on "
                "from now on: a copy of the database running on another site sends nothing" % here))
        return here

    @property
    def site_mismatch(self):
        """A :class:`~shoop_mailchimp.sites.SiteMismatch` when this copy runs on another site than the one the
        configuration was initialized on (a staging copy of the database), else None."""
        if not self.site:
            return None
        return sites.mismatch(self.site, self.site_from_setting, self.shop.domain)

    @property
    def api_key(self):
        """The Mailchimp API key ("" when none); raises :class:`APIKeyUndecryptable` rather than return garbage."""
        if not self.encrypted_api_key:
            return ""
        try:
            return encryption.decrypt(self.encrypted_api_key)
        except encryption.UndecryptableValue:
            raise APIKeyUndecryptable() from None

    @api_key.setter
    def api_key(self, value):
        self.encrypted_api_key = encryption.encrypt(value) if value else ""

    @property
    def has_api_key(self):
        """Whether a key is stored, readable or not."""
        return bool(self.encrypted_api_key)

    @property
    def api_key_undecryptable(self):
        """A key is stored that none of the configured ENCRYPTION_KEYS reads."""
        if not self.encrypted_api_key:
            return False
        try:
            encryption.decrypt(self.encrypted_api_key)
        except encryption.UndecryptableValue:
            return True
        return False

    @property
    def api_key_hint(self):
        """What the admin may show of the key: the last four characters of its secret part."""
        if self.api_key_undecryptable:
            return ""
        return self.api_key.split("-")[0][-4:]

    @classmethod
    def default_store_id(cls, shop):
        return "shuup-shop-%s" % shop.pk
