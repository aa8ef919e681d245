from django.conf import settings
from django.db import models
from django.utils.translation import ugettext_lazy as _
from jsonfield import JSONField

from shoop_mailchimp.log_labels import action_label


class LogKind:
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CHOICES = [(INFO, _("info")), (WARNING, _("warning")), (ERROR, _("error"))]


class MailchimpLogEntry(models.Model):
    """One Mailchimp command or process and its outcome; never holds the API key."""

    shop = models.ForeignKey(
        "shuup.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("shop")
    )
    created_on = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("time"))
    kind = models.CharField(max_length=16, choices=LogKind.CHOICES, default=LogKind.INFO, verbose_name=_("kind"))
    action = models.CharField(max_length=64, db_index=True, verbose_name=_("action"))
    message = models.TextField(verbose_name=_("message"))
    contact_id = models.IntegerField(null=True, blank=True, db_index=True, verbose_name=_("contact"))
    order_id = models.IntegerField(null=True, blank=True, db_index=True, verbose_name=_("order"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    extra = JSONField(null=True, blank=True, verbose_name=_("details"))

    class Meta:
        ordering = ("-created_on", "-id")
        index_together = [("shop", "kind", "created_on")]
        verbose_name = _("Mailchimp log entry")
        verbose_name_plural = _("Mailchimp log entries")

    def __str__(self):
        return "[%s] %s: %s" % (self.kind, self.action, self.message)

    @property
    def action_label(self):
        """What the action is called in the admin."""
        return action_label(self.action)
