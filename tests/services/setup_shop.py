"""Run with settings_pg: make the tables, configure the shop on the emulator, create pending contacts.

``setup_shop COUNT`` creates them in one transaction; ``setup_shop COUNT separately`` in one
transaction each, as COUNT requests would (in celery mode each commit asks for a drain task).
"""
import contextlib
import os
import sys

import django


def main(count, separately=False):
    django.setup()
    if os.environ.get("SHOOP_MAILCHIMP_DELIVERY") == "celery":
        import shoop_mailchimp.sync.celery_app  # noqa: F401  (the project's Celery app, as Django would load it)
    from django.core.management import call_command
    from django.db import transaction
    from shuup.core.models import PersonContact
    from shuup.testing.factories import get_default_shop

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import MailchimpConfiguration
    from shoop_mailchimp.sync.drainer import drain

    call_command("migrate", run_syncdb=True, verbosity=0)
    shop = get_default_shop()
    configuration = MailchimpConfiguration.objects.create(
        shop=shop, api_key=os.environ["SHOOP_MAILCHIMP_API_KEY"], list_id=os.environ["SHOOP_MAILCHIMP_LIST_ID"],
        enabled=True,
    )
    initialize(configuration)
    # One contact first, drained with the default group it joins: the group's interest exists before
    # the contacts the workers send (a new interest re-sends the group's members).
    PersonContact.objects.create(first_name="Warm", email="warm-up@fastmail.com")
    drain()
    with contextlib.nullcontext() if separately else transaction.atomic():
        for number in range(count):
            with transaction.atomic():
                PersonContact.objects.create(first_name="P%d" % number, email="p%d@fastmail.com" % number,
                                             marketing_permission=number % 2 == 0)
    print(shop.pk)


if __name__ == "__main__":
    main(int(sys.argv[1]), separately=sys.argv[2:] == ["separately"])
