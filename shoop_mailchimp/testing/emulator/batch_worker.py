"""Runs submitted batches in the background, through the same dispatcher as HTTP requests."""

import io
import json
import queue
import tarfile
import threading
import time
import urllib.parse

from .errors import problem
from .state import now_iso

OPERATIONS_PER_FILE = 1000


class BatchWorker:
    """One daemon thread processing batches in submission order: pending → started → finished.

    Inside a batch the operations run in a shuffled order while the ``batch_shuffle`` rule is on.
    """

    def __init__(self, emulator):
        self.emulator = emulator
        self.results = {}
        self._queue = queue.Queue()
        self._thread = None
        self._lock = threading.Lock()

    def submit(self, account, batch):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="mailchimp-emulator-batches", daemon=True
                )
                self._thread.start()
        self._queue.put((self.emulator.generation, account, batch))

    def stop(self):
        self._queue.put(None)

    def _run(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, account, batch = item
            if self._held(generation, account, batch):
                self._process(generation, account, batch)

    def _held(self, generation, account, batch):
        """Wait ``batch_delay`` (read again whenever it changes: lowering it lets the batch go at once); False
        when the batch is no longer wanted (deleted, or the emulator reset)."""
        return self.emulator.hold(lambda: self.emulator.batch_delay, time.monotonic(),
                                  lambda: not self._still_wanted(generation, account, batch))

    def _still_wanted(self, generation, account, batch):
        return generation == self.emulator.generation and account.batches.get(batch["id"]) is batch

    def _process(self, generation, account, batch):
        with self.emulator.lock:
            batch["status"] = "started"
        self.emulator.changed()
        results = []
        # Mailchimp does not promise to run a batch's operations in the order they were sent.
        for operation in self.emulator.shuffle_operations(account, batch["_operations"]):
            status, body = self._run_operation(account, batch, operation)
            results.append(
                {
                    "status_code": status,
                    "operation_id": operation.get("operation_id"),
                    "response": json.dumps(body) if body is not None else "",
                }
            )
            with self.emulator.lock:
                batch["finished_operations"] += 1
                if status >= 400:
                    batch["errored_operations"] += 1
        if not self._held(generation, account, batch):
            return
        self.results[batch["id"]] = build_archive(batch["id"], results)
        with self.emulator.lock:
            batch.update(
                status="finished",
                completed_at=now_iso(),
                response_body_url=f"{self.emulator.root_url}/_emulator/batch-results/{batch['id']}.tar.gz",
            )
        self.emulator.changed()

    def _run_operation(self, account, batch, operation):
        method = str(operation.get("method", "")).upper()
        parsed = urllib.parse.urlsplit(str(operation.get("path", "")))
        path = parsed.path[len("/3.0") :] if parsed.path.startswith("/3.0/") else parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        query.update({key: str(value) for key, value in (operation.get("params") or {}).items()})
        raw = operation.get("body")
        body = None
        if raw not in (None, ""):
            try:
                body = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                return 400, problem(
                    400, "We encountered an unspecified JSON parsing error.", title="JSON Parse Error"
                )
        context = {"batch_id": batch["id"], "operation_id": operation.get("operation_id")}
        return self.emulator.dispatch(account, method, path, query, body, network=False, context=context)[:2]


def build_archive(batch_id, results):
    """A tar.gz of JSON arrays, shaped like the archives Mailchimp links from ``response_body_url``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        chunks = [
            results[i : i + OPERATIONS_PER_FILE] for i in range(0, len(results), OPERATIONS_PER_FILE)
        ] or [[]]
        for number, chunk in enumerate(chunks):
            data = json.dumps(chunk).encode("utf-8")
            info = tarfile.TarInfo(f"{batch_id}/{batch_id}-{number}.json")
            info.size = len(data)
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
