from django.conf import settings
from django.db import models
from django.utils.translation import ugettext_lazy as _
from jsonfield import JSONField


class JobKind:
    #: Check the key and the audience, create the store, the interest category and interests, register the webhook.
    INITIALIZE = "initialize"
    #: Check the key, list the account's audiences for the shop form, check the chosen audience.
    CHECK_ACCOUNT = "check_account"
    #: Send the contacts (and orders) the sync has never seen, through Mailchimp batches.
    SYNC_EXISTING = "sync_existing"
    #: After the webhook secret was rotated: register the new URL, delete the old webhook.
    MOVE_WEBHOOK = "move_webhook"
    #: Read the members Mailchimp changed (or all of them) and apply what the shop missed.
    RECONCILE = "reconcile"
    #: Before the first Initialize: count what it and the first sync would do to the audience.
    PREVIEW_INITIALIZE = "preview_initialize"
    #: Stop sending, delete the webhook and (when confirmed) the eCommerce store; the audience stays.
    DISCONNECT = "disconnect"
    #: Create merge fields the audience lacks for shop data the admin chose, and map them.
    CREATE_MERGE_FIELDS = "create_merge_fields"
    #: The shop's domain changed: the store's domain and the connected site follow it.
    FOLLOW_DOMAIN = "follow_domain"
    CHOICES = [
        (INITIALIZE, _("Initialize")),
        (CHECK_ACCOUNT, _("Check the API key and audience")),
        (SYNC_EXISTING, _("Sync existing contacts")),
        (MOVE_WEBHOOK, _("Move the webhook to its new secret URL")),
        (RECONCILE, _("Reconcile with Mailchimp")),
        (PREVIEW_INITIALIZE, _("Preview what Initialize will do")),
        (DISCONNECT, _("Disconnect from Mailchimp")),
        (CREATE_MERGE_FIELDS, _("Create merge fields in the audience")),
        (FOLLOW_DOMAIN, _("Move the store and its connected site to the shop's domain")),
    ]


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    OPEN = (QUEUED, RUNNING)
    CHOICES = [(QUEUED, _("queued")), (RUNNING, _("in progress")), (DONE, _("done")), (FAILED, _("failed"))]


class MailchimpJob(models.Model):
    """Work an admin asked for that talks to Mailchimp: done by the drainer, never in the request."""

    shop = models.ForeignKey("shuup.Shop", on_delete=models.CASCADE, related_name="+", verbose_name=_("shop"))
    kind = models.CharField(max_length=32, choices=JobKind.CHOICES, verbose_name=_("job"))
    status = models.CharField(max_length=16, choices=JobStatus.CHOICES, default=JobStatus.QUEUED,
                              verbose_name=_("status"))
    params = JSONField(null=True, blank=True)
    message = models.TextField(blank=True, verbose_name=_("outcome"))
    result = JSONField(null=True, blank=True, help_text=_("What the job found, for the admin (a drift report, "
                                                          "a preview's figures)."))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_on = models.DateTimeField(auto_now_add=True, verbose_name=_("requested"))
    started_on = models.DateTimeField(null=True, blank=True)
    finished_on = models.DateTimeField(null=True, blank=True, verbose_name=_("finished"))
    lease_until = models.DateTimeField(null=True, blank=True,
                                       help_text=_("A running job whose drainer died is taken up again after this."))

    class Meta:
        ordering = ("-created_on", "-id")
        index_together = [("status", "created_on")]
        verbose_name = _("Mailchimp job")
        verbose_name_plural = _("Mailchimp jobs")

    def __str__(self):
        return "%s (%s)" % (self.kind, self.status)
