from django.db import models
from django.utils.translation import ugettext_lazy as _


class ShopConsent(models.Model):
    """A shop where a contact gave their consent in that shop alone: its storefront (the newsletter block, the
    registration box, the account page) or a confirmation its audience mailed. Shuup keeps one marketing
    permission for all shops; while a contact has rows here, that permission is consent only in the shops they
    name (see :mod:`shoop_mailchimp.shop_consent`). A contact without rows consents wherever its marketing
    permission says so (given in the admin or at a checkout)."""

    contact = models.ForeignKey("shuup.Contact", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("contact"))
    shop = models.ForeignKey("shuup.Shop", on_delete=models.CASCADE, related_name="+", verbose_name=_("shop"))
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("contact", "shop")]
        verbose_name = _("consent given in one shop")
        verbose_name_plural = _("consents given in one shop")

    def __str__(self):
        return "contact %s consents in shop %s" % (self.contact_id, self.shop_id)


class ProvenAddress(models.Model):
    """The address a contact's owner proved theirs: the account was activated through the link mailed to it. A
    consent given in a storefront for the contact is sent as given (``ConsentRequest.SUBSCRIBE``) only while the
    contact still has this address; for another one (typed into the account since, or never proven: a
    registration without activation) a member Mailchimp already holds of it is asked to confirm first
    (``ConsentRequest.SIGNUP``). See :func:`shoop_mailchimp.shop_consent.address_proven`."""

    contact = models.OneToOneField("shuup.Contact", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("contact"))
    #: Normalised: stripped and lower-cased.
    email = models.EmailField(max_length=254, verbose_name=_("address"))
    proven_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("address proven by its owner")
        verbose_name_plural = _("addresses proven by their owners")

    def __str__(self):
        return "contact %s proved %s" % (self.contact_id, self.email)
