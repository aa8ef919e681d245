"""SQLite whose transactions take the write lock as they begin (``BEGIN IMMEDIATE``).

The demo's web server, its Mailchimp worker and run.py write to one file. A default (deferred)
transaction reads first; when it then writes while another process holds the write lock, SQLite
fails it at once with "database is locked" (the busy timeout does not cover that upgrade).
Taking the lock up front makes a transaction wait its turn instead.
"""
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
