"""How plans reach Mailchimp: one call at a time over HTTP (``direct``); many at once in Mailchimp batches
is :mod:`shoop_mailchimp.sync.bulk`, through each kind's ``BATCH_PHASES``."""
