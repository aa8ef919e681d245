"""Processes of the disconnect-during-a-batch tests, each run with ``tests.services.settings_pg`` (as
chaos_actors.py):

``disconnect SIGNAL_DIR``   the admin's Disconnect (store kept) and the drainer's DISCONNECT job; with a folder
                            (not ``-``), ready first, then acts the moment ``go`` appears there
``slow-results-worker SIGNAL_DIR SECONDS``  ``mailchimp_sync --loop`` whose first download of a batch's result
                            archive takes 4 s; writes ``reading`` in the folder when it begins
"""
import os
import sys
import time


def slow_results_worker(signal_dir, seconds):
    """``mailchimp_sync --loop`` whose first download of a batch's result archive takes 4 s (a slow link to the
    archive's storage); writes ``reading`` in ``signal_dir`` when it begins."""
    from shoop_mailchimp.mailchimp import batches
    from shoop_mailchimp.sync.rounds import run_due_work

    real_download, slowed = batches.download_results, []

    def slow_download(url, timeout=None):
        if not slowed:
            slowed.append(url)
            open(os.path.join(signal_dir, "reading"), "w").close()
            time.sleep(4)
        return real_download(url, timeout)

    batches.download_results = slow_download
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_due_work()
        time.sleep(0.2)


def disconnect(signal_dir):
    """The admin's Disconnect (store kept) and the drainer's DISCONNECT job, as views.py and jobs.run_disconnect do
    them. With ``signal_dir``: ready first, then acts the moment ``go`` appears."""
    from django.db import transaction

    from shoop_mailchimp import disconnection
    from shoop_mailchimp.journal import Journal
    from shoop_mailchimp.models import MailchimpConfiguration

    if signal_dir != "-":
        open(os.path.join(signal_dir, "ready"), "w").close()
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(signal_dir, "go")) and time.time() < deadline:
            time.sleep(0.01)
    configuration = MailchimpConfiguration.objects.get()
    journal = Journal(configuration.shop_id)
    with transaction.atomic():
        disconnection.stop_sending(configuration, journal, False)
        journal.flush()
    print(disconnection.run(MailchimpConfiguration.objects.get(), False))


if __name__ == "__main__":
    import django

    django.setup()
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "disconnect":
        disconnect(arguments[0])
    elif command == "slow-results-worker":
        slow_results_worker(arguments[0], float(arguments[1]))
