"""Queueing a job from an admin button: only for a shop whose sending is active, after the commit."""
from django.db import transaction
from django.utils.translation import ugettext_lazy as _
from shuup.admin.shop_provider import get_shop

from shoop_mailchimp.admin_module import messages
from shoop_mailchimp.admin_module.form_parts import get_configuration
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.jobs import request_job


def queue_job_of_active_shop(request, kind, queued_message, **params):
    """Queue ``kind`` for the administered shop and say so; say why not when Mailchimp is not active."""
    shop = get_shop(request)
    if not get_configuration(shop).is_active:
        messages.error(request, _("Mailchimp is not active for this shop: configure and initialize it first."))
        return None
    with transaction.atomic():
        job = request_job(shop.pk, kind, user=request.user, **params)
        schedule_delivery(shop.pk)
    messages.info(request, queued_message)
    return job
