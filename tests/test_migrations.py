import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_migrations_are_in_sync_with_models():
    """Run in a fresh process: the test run itself disables migrations (--nomigrations)."""
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemigrations", "shoop_mailchimp", "--check", "--dry-run"],
        cwd=ROOT, env=dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
    )
    assert result.returncode == 0, "Models changed without a migration:\n" + result.stdout
