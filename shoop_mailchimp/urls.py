"""Front URLs (included by Shuup's front through the ``front_urls`` provide)."""
from django.conf.urls import url

from shoop_mailchimp.webhooks import URL_NAME, mailchimp_webhook

urlpatterns = [
    # The secret is optional in the pattern so that a missing one answers 403, not 404.
    url(r"^mailchimp/webhook/(?P<shop_id>[0-9]+)/(?:(?P<secret>[^/]+)/)?$", mailchimp_webhook, name=URL_NAME),
]
