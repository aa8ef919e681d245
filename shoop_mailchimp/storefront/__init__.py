"""The storefront's newsletter signup: a block shop owners place with the xtheme editor, a checkbox on
Shuup's registration form and a page in the customer's account.

Each only changes the shop's record of consent (``Contact.marketing_permission``, counted in this shop only:
:mod:`shoop_mailchimp.shop_consent`); saving the contact
records its sync-state row and the drainer tells Mailchimp after the commit, never in the request.
"""
