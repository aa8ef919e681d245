"""Mailchimp batch operations: submit many calls at once, read their results from an archive.

An operation's ``body`` is a JSON *string*; results arrive as a tar.gz of JSON arrays of
``{status_code, operation_id, response}`` at ``response_body_url`` (a pre-signed link, no API key).
"""
import io
import json
import tarfile

import requests

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import error_from_exception

FINISHED = "finished"
#: Batches listed per poll; Mailchimp allows at most 500 pending ones per account anyway.
LIST_COUNT = 1000
STATUS_FIELDS = "id,status,total_operations,finished_operations,errored_operations,response_body_url"


def operation(method, path, body, operation_id):
    return {"method": method, "path": path, "body": json.dumps(body), "operation_id": operation_id}


def submit(client, operations):
    return client.batch_operations.create({"operations": operations})


def get_status(client, batch_id):
    return client.batch_operations.get(batch_id, fields=STATUS_FIELDS)


def statuses(client):
    """{batch id: status dict} of the account's batches, in one request."""
    fields = ",".join("batches.%s" % field for field in STATUS_FIELDS.split(","))
    listing = client.batch_operations.all(count=LIST_COUNT, fields=fields)
    return {batch["id"]: batch for batch in listing.get("batches", [])}


def download_results(url, timeout=None):
    """Every ``{status_code, operation_id, response}`` of a finished batch."""
    try:
        response = requests.get(url, timeout=timeout or get_setting("TIMEOUT"))
        response.raise_for_status()
    except requests.RequestException as exc:
        raise error_from_exception(exc, "GET", "batch results") from None
    results = []
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".json"):
                results.extend(json.load(archive.extractfile(member)))
    return results


def problem_of(result):
    """(title, detail) from a failed operation's ``response`` (a JSON string of the problem)."""
    try:
        data = json.loads(result.get("response") or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return data.get("title") or "", data.get("detail") or ""


def response_of(result):
    try:
        data = json.loads(result.get("response") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
