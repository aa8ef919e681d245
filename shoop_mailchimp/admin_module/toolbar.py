"""Buttons the addon adds to Shuup's shop edit page and contact detail page."""
from django.urls import reverse
from django.utils.translation import ugettext_lazy as _
from shuup.admin.toolbar import PostActionButton, PostActionDropdownItem

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION


class InitializeMailchimpButton(PostActionButton):
    """Posts (with the toolbar form's CSRF token) to the initialize view; it uses the saved settings."""

    def __init__(self, shop, **kwargs):
        kwargs.update(
            post_url=reverse("shuup_admin:shoop_mailchimp.initialize", kwargs={"pk": shop.pk}),
            text=_("Initialize Mailchimp"),
            icon="fa fa-envelope",
            extra_css_class="btn-inverse",
            required_permissions=(MANAGE_PERMISSION,),
        )
        super().__init__(**kwargs)

    @staticmethod
    def visible_for_object(shop):
        from shoop_mailchimp.models import MailchimpConfiguration

        return bool(shop.pk) and MailchimpConfiguration.objects.filter(shop=shop).exclude(encrypted_api_key="").exists()


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
