"""Mailchimp batch operations: submit many calls at once, read their results from an archive.

An operation's ``body`` is a JSON *string*; results arrive as a tar.gz of JSON arrays of
``{status_code, operation_id, response}`` at ``response_body_url`` (a pre-signed link, no API key).
"""
import io
import json
import tarfile

import requests

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import MailchimpNotFound, error_from_exception, error_from_status

FINISHED = "finished"
#: Batches listed per poll; Mailchimp allows at most 500 pending ones per account anyway.
LIST_COUNT = 1000
STATUS_FIELDS = "id,status,total_operations,finished_operations,errored_operations,response_body_url"


def encode(operation, operation_id):
    """A transport :class:`~shoop_mailchimp.mailchimp.transport.Operation` as a batch operation."""
    encoded = {"method": operation.method, "path": "/" + operation.path, "operation_id": operation_id}
    if operation.body is not None:
        encoded["body"] = json.dumps(operation.body)
    if operation.params:
        encoded["params"] = {key: str(value) for key, value in operation.params.items()}
    return encoded


def submit(session, operations):
    return session.post("batches", {"operations": operations})


def get_status(session, batch_id):
    return session.get("batches/%s" % batch_id, fields=STATUS_FIELDS)


def stop(session, batch_id):
    """Stop a batch Mailchimp has not finished (``DELETE /batches/{id}``); False when it no longer knows it."""
    try:
        session.delete("batches/%s" % batch_id)
    except MailchimpNotFound:
        return False
    return True


def statuses(session):
    """{batch id: status dict} of the account's batches, in one request."""
    fields = ",".join("batches.%s" % field for field in STATUS_FIELDS.split(","))
    listing = session.get("batches", count=LIST_COUNT, fields=fields) or {}
    return {batch["id"]: batch for batch in listing.get("batches", [])}


def download_results(url, timeout=None):
    """Every ``{status_code, operation_id, response}`` of a finished batch."""
    try:
        response = requests.get(url, timeout=timeout or get_setting("TIMEOUT"))
        response.raise_for_status()
    except requests.RequestException as exc:
        raise error_from_exception(exc, "GET", "batch results") from exc
    results = []
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".json"):
                results.extend(json.load(archive.extractfile(member)))
    return results


def operation_status(result):
    """The HTTP status Mailchimp answered one batch operation with (0 when the result says none)."""
    try:
        return int(result.get("status_code") or 0)
    except (TypeError, ValueError):
        return 0


def operation_failed(result):
    """Whether an operation did not do what was asked: an error answer, or no result at all (``None``)."""
    return result is None or operation_status(result) >= 400


def operation_not_found(result):
    """Whether an operation addressed something Mailchimp does not have (404)."""
    return result is not None and operation_status(result) == 404


def error_of(result, operation_id=None):
    """The MailchimpAPIError a failed operation's result stands for, as the direct transport raises it."""
    problem = dict(response_of(result))
    status = operation_status(result)
    problem.setdefault("status", status)
    return error_from_status(status, problem, "BATCH", "operation %s" % (operation_id or result.get("operation_id")))


def response_of(result):
    try:
        data = json.loads(result.get("response") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
