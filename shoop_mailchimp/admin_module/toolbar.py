"""The action the addon adds to a contact's toolbar in the admin."""
from django.urls import reverse
from django.utils.translation import ugettext_lazy as _
from shuup.admin.toolbar import PostActionDropdownItem

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION


class SyncContactAction(PostActionDropdownItem):
    def __init__(self, object, **kwargs):
        kwargs.update(
            post_url=reverse("shuup_admin:shoop_mailchimp.sync_contact", kwargs={"pk": object.pk}),
            text=_("Sync to Mailchimp now"),
            icon="fa fa-envelope",
            required_permissions=(MANAGE_PERMISSION,),
        )
        super().__init__(**kwargs)

    @staticmethod
    def visible_for_object(contact):
        return bool(contact.pk)
