"""Processes of the services tests: the environment they share and how they start and stop."""
import os
import subprocess
import sys

from shoop_mailchimp.testing.emulator import Emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def new_account():
    """An emulator of its own (the processes reach it over HTTP) with one account and audience."""
    emulator = Emulator(require_spec=True).start()
    api_key = emulator.add_account()
    return emulator, api_key, emulator.add_list(api_key)


def services_env(emulator, api_key, list_id, redis_url, postgres_port, **extra):
    return dict(
        os.environ, DJANGO_SETTINGS_MODULE="tests.services.settings_pg", SHOOP_MAILCHIMP_PG_PORT=str(postgres_port),
        SHOOP_MAILCHIMP_API_BASE_URL=emulator.base_url, SHOOP_MAILCHIMP_REDIS_URL=redis_url or "",
        CELERY_BROKER_URL=redis_url or "", SHOOP_MAILCHIMP_API_KEY=api_key, SHOOP_MAILCHIMP_LIST_ID=list_id,
        PYTHONPATH=ROOT, **extra
    )


def run_module(env, *args, timeout=300):
    """``python -m ARGS`` to completion; returns its standard output."""
    return subprocess.run([sys.executable, "-m", *args], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE,
                          timeout=timeout).stdout.decode()


def start(env, *args):
    return subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)


def stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
