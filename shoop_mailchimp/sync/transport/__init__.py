"""How plans reach Mailchimp: one call at a time over HTTP (``direct``), or many in a batch (``batch``)."""
