"""Batch operations end to end, downloaded and parsed the way a client does."""

import io
import json
import tarfile

import requests

from .conftest import md5


def wait_finished(mailchimp_client, batch_id, timeout=10):
    """The batch, read over HTTP once the emulator says it finished."""
    emu = mailchimp_client.emulator
    finished = emu.wait_until(lambda: [b for b in emu.batches(mailchimp_client.api_key)
                                       if b["id"] == batch_id and b["status"] == "finished"], timeout)
    assert finished, f"batch {batch_id} did not finish"
    return mailchimp_client.batch_operations.get(batch_id)


def results_by_operation(url):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    results = {}
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.endswith(".json"):
                for item in json.load(archive.extractfile(member)):
                    results[item["operation_id"]] = item
    return results


def member_op(list_id, email, operation_id, **body):
    body = dict({"email_address": email, "status_if_new": "subscribed"}, **body)
    return {
        "method": "PUT",
        "path": f"/lists/{list_id}/members/{md5(email)}",
        "operation_id": operation_id,
        "body": json.dumps(body),
    }


def test_batch_end_to_end(mailchimp_account, mailchimp_client):
    emu, api_key, list_id = mailchimp_account
    operations = [member_op(list_id, f"user{n}@gmail.com", f"op-{n}") for n in range(3)]
    operations.append(member_op(list_id, "broken", "op-bad"))
    operations.append(
        {"method": "GET", "path": f"/lists/{list_id}", "operation_id": "op-get", "params": {"fields": "id"}}
    )
    batch = mailchimp_client.batch_operations.create({"operations": operations})
    assert batch["status"] == "pending"
    assert batch["total_operations"] == 5
    finished = wait_finished(mailchimp_client, batch["id"])
    assert finished["finished_operations"] == 5
    assert finished["errored_operations"] == 1
    assert finished["completed_at"]
    results = results_by_operation(finished["response_body_url"])
    assert set(results) == {"op-0", "op-1", "op-2", "op-bad", "op-get"}
    assert results["op-0"]["status_code"] == 200
    assert json.loads(results["op-0"]["response"])["email_address"] == "user0@gmail.com"
    assert results["op-bad"]["status_code"] == 400
    assert json.loads(results["op-bad"]["response"])["title"] == "Invalid Resource"
    assert json.loads(results["op-get"]["response"])["id"] == list_id
    assert len(emu.members(api_key, list_id)) == 3
    assert [b["id"] for b in mailchimp_client.batch_operations.all()["batches"]] == [batch["id"]]


def test_batch_status_goes_pending_started_finished(mailchimp_account, mailchimp_client):
    emu, _, list_id = mailchimp_account
    emu.batch_delay = 60  # held in each state until the test lowers it; reset() restores the default
    batch = mailchimp_client.batch_operations.create({"operations": [member_op(list_id, "a@gmail.com", "a")]})
    seen = [batch["status"]]
    emu.batch_delay = 0.5  # long enough to read "started" before the second hold is made long again
    assert emu.wait_until(lambda: emu.batches(mailchimp_client.api_key)[0]["status"] == "started")
    emu.batch_delay = 60
    seen.append(mailchimp_client.batch_operations.get(batch["id"])["status"])
    emu.batch_delay = 0
    assert wait_finished(mailchimp_client, batch["id"])
    seen.append(mailchimp_client.batch_operations.get(batch["id"])["status"])
    assert seen == ["pending", "started", "finished"]


def test_spec_invalid_operation_fails_inside_batch(mailchimp_account, mailchimp_client):
    emu, _, list_id = mailchimp_account
    bad_tags = {
        "method": "POST",
        "path": f"/lists/{list_id}/members/{md5('x@gmail.com')}/tags",
        "operation_id": "tags",
        "body": json.dumps({"tags": [{"name": "VIP"}]}),
    }
    unknown = {"method": "GET", "path": "/no/such/path", "operation_id": "unknown"}
    batch = mailchimp_client.batch_operations.create({"operations": [bad_tags, unknown]})
    results = results_by_operation(wait_finished(mailchimp_client, batch["id"])["response_body_url"])
    assert results["tags"]["status_code"] == 400
    assert results["unknown"]["status_code"] == 404
    # The batch request itself was valid; its operations are recorded with the batch id.
    assert {v["operation_id"] for v in emu.violations} == {"tags", "unknown"}
    assert all(v["batch_id"] == batch["id"] for v in emu.violations)
    emu.clear_violations()


def test_batch_operation_body_must_be_a_string(mailchimp_emulator, mailchimp_account, api):
    _, _, list_id = mailchimp_account
    operation = {
        "method": "PUT",
        "path": f"/lists/{list_id}/members/{md5('a@gmail.com')}",
        "body": {"email_address": "a@gmail.com", "status_if_new": "subscribed"},
    }
    response = api("POST", "batches", json={"operations": [operation]})
    assert response.status_code == 400
    assert len(mailchimp_emulator.violations) == 1
    mailchimp_emulator.clear_violations()


def test_batch_delete_and_404(mailchimp_client, api):
    batch = mailchimp_client.batch_operations.create({"operations": []})
    assert api("DELETE", f"batches/{batch['id']}").status_code == 204
    assert api("GET", f"batches/{batch['id']}").status_code == 404


def test_pending_batch_cap(mailchimp_account, api, monkeypatch):
    emu = mailchimp_account[0]
    from shoop_mailchimp.testing.emulator.resources import batches

    monkeypatch.setattr(batches, "MAX_PENDING_BATCHES", 2)
    emu.batch_delay = 0.5
    statuses = [api("POST", "batches", json={"operations": []}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
