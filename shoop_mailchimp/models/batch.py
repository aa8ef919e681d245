from django.db import models
from django.utils.translation import ugettext_lazy as _
from jsonfield import JSONField

from shoop_mailchimp.models.sync_state import SyncKind


class BatchStatus:
    #: Rows are leased to the batch but Mailchimp has not accepted it yet.
    PREPARING = "preparing"
    #: Mailchimp accepted it (its own status is in ``remote_status``).
    SUBMITTED = "submitted"
    #: Results were read and every row closed.
    DONE = "done"
    #: Mailchimp no longer knows the batch: its rows went back to the queue.
    LOST = "lost"
    #: Stopped by a disconnect: its rows went back to the queue, sent again on reconnect.
    CANCELLED = "cancelled"
    OPEN = (PREPARING, SUBMITTED)
    CHOICES = [
        (PREPARING, _("preparing")),
        (SUBMITTED, _("submitted")),
        (DONE, _("done")),
        (LOST, _("lost")),
        (CANCELLED, _("cancelled")),
    ]


class BatchOrigin:
    #: "Sync existing contacts": objects the sync had never seen.
    IMPORT = "import"
    #: The drainer found more due contacts than BURST_THRESHOLD (a group renamed, a CSV import).
    BURST = "burst"
    CHOICES = [(IMPORT, _("sync of existing contacts")), (BURST, _("burst of changes"))]


class MailchimpBatch(models.Model):
    """One chunk of a bulk sync sent through Mailchimp's ``POST /batches``.

    Its rows are the SyncState rows claimed with ``token`` (their ``batch_id`` is Mailchimp's id once
    submitted); ``sent`` holds what each row's operations said, recorded on the row only on success.
    """

    shop = models.ForeignKey("shuup.Shop", on_delete=models.CASCADE, related_name="+", verbose_name=_("shop"))
    kind = models.CharField(max_length=16, choices=SyncKind.CHOICES, default=SyncKind.CONTACT)
    origin = models.CharField(max_length=16, choices=BatchOrigin.CHOICES, default=BatchOrigin.IMPORT,
                              verbose_name=_("origin"))
    phase = models.PositiveSmallIntegerField(
        default=0, help_text=_("Dependent operations go in a later phase: members, then customers; products, "
                               "then orders. Mailchimp does not run a batch's operations in order."))
    token = models.CharField(max_length=32, unique=True, help_text=_("Claim token of the batch's rows."))
    batch_id = models.CharField(max_length=64, blank=True, verbose_name=_("Mailchimp batch id"))
    status = models.CharField(max_length=16, choices=BatchStatus.CHOICES, default=BatchStatus.PREPARING)
    remote_status = models.CharField(max_length=32, blank=True, verbose_name=_("status in Mailchimp"))
    rows = models.PositiveIntegerField(default=0, verbose_name=_("rows"))
    operations = models.PositiveIntegerField(default=0, verbose_name=_("operations"))
    finished_operations = models.PositiveIntegerField(default=0)
    errored_operations = models.PositiveIntegerField(default=0, verbose_name=_("errored operations"))
    sent = JSONField(null=True, blank=True)
    created_on = models.DateTimeField(auto_now_add=True)
    submitted_on = models.DateTimeField(null=True, blank=True, verbose_name=_("submitted"))
    finished_on = models.DateTimeField(null=True, blank=True, verbose_name=_("finished"))
    last_error = models.TextField(blank=True)
    taken_until = models.DateTimeField(
        null=True, blank=True, help_text=_("A worker submitting the batch or reading its results holds it until "
                                           "then: another one leaves it alone."))

    class Meta:
        ordering = ("id",)
        index_together = [("shop", "status")]
        verbose_name = _("Mailchimp batch")
        verbose_name_plural = _("Mailchimp batches")

    def __str__(self):
        return "batch %s (%s)" % (self.batch_id or self.token[:8], self.status)
