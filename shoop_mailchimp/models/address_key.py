from django.db import models
from django.utils.translation import ugettext_lazy as _


class ContactAddressKey(models.Model):
    """A contact's e-mail address as one key to compare
    (:func:`~shoop_mailchimp.mailchimp.members.address_key`): every spelling Mailchimp gets as the same mailbox
    (letter case, a domain in Unicode, decomposed, with fullwidth letters, or in punycode) has the same key.
    Written by :mod:`shoop_mailchimp.receivers.addresses` when the contact is saved; indexed, so that the look-ups
    of an address (:mod:`shoop_mailchimp.addresses`) find the stored spellings the typed one cannot name."""

    contact = models.OneToOneField("shuup.Contact", on_delete=models.CASCADE, primary_key=True,
                                   related_name="mailchimp_address", verbose_name=_("contact"))
    key = models.CharField(max_length=512, db_index=True, blank=True, verbose_name=_("address key"))

    class Meta:
        verbose_name = _("address key of a contact")
        verbose_name_plural = _("address keys of contacts")

    def __str__(self):
        return "contact %s: %s" % (self.contact_id, self.key)


class OrderAddressKey(models.Model):
    """An order's e-mail address as one key to compare, as :class:`ContactAddressKey`."""

    order = models.OneToOneField("shuup.Order", on_delete=models.CASCADE, primary_key=True,
                                 related_name="mailchimp_address", verbose_name=_("order"))
    key = models.CharField(max_length=512, db_index=True, blank=True, verbose_name=_("address key"))

    class Meta:
        verbose_name = _("address key of an order")
        verbose_name_plural = _("address keys of orders")

    def __str__(self):
        return "order %s: %s" % (self.order_id, self.key)
