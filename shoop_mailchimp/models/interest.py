from django.db import models


class ContactGroupInterest(models.Model):
    """The Mailchimp interest (under the "Contact Group" category) that stands for a ContactGroup."""

    shop = models.ForeignKey("shuup.Shop", on_delete=models.CASCADE, related_name="+")
    group_id = models.IntegerField(help_text="ContactGroup pk; kept after the group is deleted until cleaned up.")
    interest_id = models.CharField(max_length=64)
    name = models.CharField(max_length=100)

    class Meta:
        unique_together = [("shop", "group_id")]

    def __str__(self):
        return "%s -> %s" % (self.group_id, self.interest_id)
