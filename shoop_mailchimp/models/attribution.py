from django.db import models
from django.utils.translation import ugettext_lazy as _


class OrderAttribution(models.Model):
    """The Mailchimp campaign a shopper came from (``mc_cid`` in the e-mail's link) when they ordered: sent with
    the order so that the campaign's report shows the revenue it earned."""

    order = models.OneToOneField("shuup.Order", on_delete=models.CASCADE, related_name="+", verbose_name=_("order"))
    campaign_id = models.CharField(max_length=32, blank=True, verbose_name=_("Mailchimp campaign id"))
    email_id = models.CharField(max_length=32, blank=True, verbose_name=_("Mailchimp e-mail id"))
    landing_site = models.CharField(max_length=1000, blank=True, verbose_name=_("landing page"))
    tracking_code = models.CharField(max_length=16, blank=True, verbose_name=_("tracking code"))

    class Meta:
        verbose_name = _("campaign attribution")
        verbose_name_plural = _("campaign attributions")

    def __str__(self):
        return "%s: %s" % (self.order_id, self.campaign_id)
