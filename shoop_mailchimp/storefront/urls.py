"""Storefront URLs (included by Shuup's front through the ``front_urls`` provide)."""
from django.conf.urls import url
from django.contrib.auth.decorators import login_required

from shoop_mailchimp import cart_links
from shoop_mailchimp.storefront import views

urlpatterns = [
    url(r"^newsletter/subscribe/$", views.newsletter_signup, name=views.SIGNUP_URL_NAME),
    url(r"^customer/newsletter/$", login_required(views.AccountNewsletterView.as_view()),
        name=views.ACCOUNT_URL_NAME),
    url(r"^mailchimp/promo/$", views.redeem_promo_code, name=views.PROMO_URL_NAME),
    url(r"^basket/restore/(?P<token>[-\w:.]+)/$", views.restore_cart, name=cart_links.RESTORE_URL_NAME),
]
