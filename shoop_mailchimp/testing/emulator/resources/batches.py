"""Batch operations: accepted at once, run later by the emulator's batch worker."""

import copy

from ..errors import ApiError, not_found, require
from ..state import now_iso, random_hex
from .registry import handles, page

MAX_PENDING_BATCHES = 500


def batch_json(batch):
    return {key: value for key, value in batch.items() if not key.startswith("_")}


@handles("POST", "/batches")
def create_batch(ctx):
    require(ctx.body, "operations")
    pending = [
        b for b in ctx.account.batches.values() if b["status"] in ("pending", "preprocessing", "started")
    ]
    if len(pending) >= MAX_PENDING_BATCHES:
        raise ApiError(429, f"You have more than {MAX_PENDING_BATCHES} pending batches.")
    batch = {
        "id": random_hex(10),
        "status": "pending",
        "total_operations": len(ctx.body["operations"]),
        "finished_operations": 0,
        "errored_operations": 0,
        "submitted_at": now_iso(),
        "completed_at": "",
        "response_body_url": "",
        "_links": [],
        "_operations": copy.deepcopy(ctx.body["operations"]),
    }
    ctx.account.batches[batch["id"]] = batch
    ctx.emulator.batch_worker.submit(ctx.account, batch)
    return batch_json(batch)


def _batch(ctx):
    batch = ctx.account.batches.get(ctx.params["batchId"])
    if batch is None:
        raise not_found()
    return batch


@handles("GET", "/batches")
def list_batches(ctx):
    return page((batch_json(b) for b in ctx.account.batches.values()), ctx.query, "batches")


@handles("GET", "/batches/{batchId}")
def get_batch(ctx):
    return batch_json(_batch(ctx))


@handles("DELETE", "/batches/{batchId}")
def delete_batch(ctx):
    del ctx.account.batches[_batch(ctx)["id"]]
    return 204, None
