"""The newsletter block placed on the front page as a shop owner does with the xtheme editor (a published
view configuration), and the pages a shopper sees."""
from django.urls import reverse
from shuup.xtheme import set_current_theme
from shuup.xtheme.layout import Layout
from shuup.xtheme.models import SavedViewConfig, SavedViewConfigStatus

from shoop_mailchimp.storefront.plugins import NewsletterPlugin
from shoop_mailchimp.storefront.views import ACCOUNT_VIEW_NAME, SIGNUP_VIEW_NAME

FRONT_PAGE_VIEW = "IndexView"
FRONT_PAGE_PLACEHOLDER = "front_content"


def place_newsletter_block(shop, **config):
    """The block in the front page's content placeholder of the Classic Gray theme, published."""
    theme = set_current_theme("shuup.themes.classic_gray", shop)
    layout = Layout(theme, FRONT_PAGE_PLACEHOLDER)
    layout.begin_row()
    layout.begin_column({"md": 12})
    layout.add_plugin(NewsletterPlugin.identifier, config)
    view_config = SavedViewConfig(theme_identifier=theme.identifier, shop=shop, view_name=FRONT_PAGE_VIEW,
                                  status=SavedViewConfigStatus.CURRENT_DRAFT)
    view_config.set_layout_data(layout.placeholder_name, layout)
    view_config.save()
    view_config.publish()
    return view_config


def signup_url():
    return reverse(SIGNUP_VIEW_NAME)


def account_url():
    return reverse(ACCOUNT_VIEW_NAME)


def page_messages(response):
    """The texts of the alerts Shuup's front shows (messages), as the page holds them."""
    import re

    return [" ".join(text.split()) for text in re.findall(
        r'<div class="alert[^"]*" role="alert">\s*<button.*?</button>(.*?)</div>', response.content.decode(),
        re.S)]
