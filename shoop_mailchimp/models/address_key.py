from django.db import models
from django.utils.translation import ugettext_lazy as _


class AddressKey(models.Model):
    """An e-mail address as one key to compare (:func:`~shoop_mailchimp.mailchimp.members.address_key`): every
    spelling Mailchimp gets as the same mailbox (letter case, a domain in Unicode, decomposed, with fullwidth
    letters, or in punycode) has the same key. Written by :mod:`shoop_mailchimp.receivers.addresses` when its
    owner is saved; indexed, so that the look-ups of an address (:mod:`shoop_mailchimp.addresses`) find the
    stored spellings the typed one cannot name. The owner is the primary key."""

    #: What the owner is called in ``str()``.
    OWNER = ""

    key = models.CharField(max_length=512, db_index=True, blank=True, verbose_name=_("address key"))

    class Meta:
        abstract = True

    def __str__(self):
        return "%s %s: %s" % (self.OWNER, self.pk, self.key)


class ContactAddressKey(AddressKey):
    """A contact's address key."""

    OWNER = "contact"

    contact = models.OneToOneField("shuup.Contact", on_delete=models.CASCADE, primary_key=True,
                                   related_name="mailchimp_address", verbose_name=_("contact"))

    class Meta:
        verbose_name = _("address key of a contact")
        verbose_name_plural = _("address keys of contacts")


class OrderAddressKey(AddressKey):
    """An order's address key (a guest order's address is looked up as a contact's is)."""

    OWNER = "order"

    order = models.OneToOneField("shuup.Order", on_delete=models.CASCADE, primary_key=True,
                                 related_name="mailchimp_address", verbose_name=_("order"))

    class Meta:
        verbose_name = _("address key of an order")
        verbose_name_plural = _("address keys of orders")
