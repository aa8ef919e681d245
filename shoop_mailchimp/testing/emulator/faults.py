"""Fault injection: the failures a real Mailchimp (or the network to it) produces."""

import fnmatch
import random
import re
import threading

from .state import subscriber_hash


def _path_matches(pattern, path):
    if pattern is None:
        return True
    if pattern.startswith("^"):
        return re.search(pattern, path) is not None
    # fnmatch's "*" also crosses "/", so "/lists/*" covers every list sub-resource.
    return fnmatch.fnmatchcase(path, pattern)


class _Rule:
    def __init__(self, path_pattern=None, method=None, times=None, **data):
        self.path_pattern = path_pattern
        self.method = method.upper() if method else None
        self.remaining = times
        self.data = data

    def matches(self, method, path):
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method and self.method != method:
            return False
        return _path_matches(self.path_pattern, path)

    def consume(self):
        if self.remaining is not None:
            self.remaining -= 1


class Faults:
    """Thread-safe fault registry consulted by the server for every /3.0 request."""

    def __init__(self, on_down=None, on_up=None, on_change=None):
        self._lock = threading.Lock()
        self._on_down = on_down
        self._on_up = on_up
        self._on_change = on_change or (lambda: None)
        self.clear()

    def clear(self):
        with self._lock:
            self._fails = []
            self._emails = {}
            self._rate = None
            self._latency = 0.0
            self._hangs = []
            #: How many requests a hang rule has held so far: a test waits on it instead of guessing a time.
            self.hangs_begun = 0
            self._resets = []
            self._redirects = []

    def fail(self, path_pattern, status=500, method=None, times=None, detail=None, title=None):
        with self._lock:
            self._fails.append(
                _Rule(path_pattern, method, times, status=int(status), detail=detail, title=title)
            )

    def fail_email(self, email, status=400, title="Invalid Resource", detail=None):
        detail = detail or f"{email} looks fake or invalid, please enter a real email address."
        with self._lock:
            self._emails[subscriber_hash(email)] = {"status": int(status), "title": title, "detail": detail}

    def failure_rate(self, rate, status=500, seed=None):
        with self._lock:
            self._rate = (float(rate), int(status), random.Random(seed))

    def latency(self, seconds):
        with self._lock:
            self._latency = float(seconds)
        self._on_change()  # an answer it holds now waits as long as the new latency says

    def hang(self, seconds, path_pattern=None, times=None, method=None):
        with self._lock:
            self._hangs.append(_Rule(path_pattern, method, times, seconds=float(seconds)))

    def reset_connection(self, path_pattern=None, times=None):
        with self._lock:
            self._resets.append(_Rule(path_pattern, None, times))

    def redirect(self, path_pattern=None, status=302, location=None, method=None, times=None):
        """Answer with a redirect, as a proxy or a wrong base URL would (Mailchimp's API never does)."""
        with self._lock:
            self._redirects.append(_Rule(path_pattern, method, times, status=int(status), location=location))

    def down(self):
        """Stop listening on the port: clients get "connection refused"."""
        self._on_down()

    def up(self):
        """Listen again on the same port."""
        self._on_up()

    def _first(self, rules, method, path):
        for rule in rules:
            if rule.matches(method, path):
                rule.consume()
                return rule
        return None

    def hang_for(self, method, path):
        """Seconds to wait before handling this request (a hang), 0 for none."""
        with self._lock:
            hang = self._first(self._hangs, method, path)
            self.hangs_begun += bool(hang)
        if hang:
            self._on_change()  # a test may wait for the hang to begin (Emulator.wait_until)
        return hang.data["seconds"] if hang else 0.0

    @property
    def latency_seconds(self):
        """How long after its arrival a request is answered, the emulator's own work included: a server
        whose latency is 100 ms answers in 100 ms, not in 100 ms plus its work."""
        return self._latency

    def should_reset(self, method, path):
        with self._lock:
            return self._first(self._resets, method, path) is not None

    def redirect_for(self, method, path):
        """``(status, location or None)`` when this request must be redirected, else None."""
        with self._lock:
            rule = self._first(self._redirects, method, path)
            return (rule.data["status"], rule.data["location"]) if rule else None

    def failure_for(self, method, path, body, params, network=True):
        """Return ``dict(status, title, detail)`` when this request must fail, else None.

        ``network`` is False for operations inside a batch: random failures model the
        HTTP layer and do not apply there.
        """
        with self._lock:
            rule = self._first(self._fails, method, path)
            if rule:
                return dict(rule.data, detail=rule.data["detail"] or f"Injected failure for {path}")
            hashes = set()
            for source in (
                body if isinstance(body, dict) else {},
                (body or {}).get("customer") if isinstance(body, dict) else None,
            ):
                if isinstance(source, dict) and isinstance(source.get("email_address"), str):
                    hashes.add(subscriber_hash(source["email_address"]))
            if params.get("subscriberHash") and method != "GET":
                # An address Mailchimp refuses is refused when written; a read of it finds what the audience holds.
                hashes.add(params["subscriberHash"].lower())
            for hashed in hashes:
                if hashed in self._emails:
                    return dict(self._emails[hashed])
            if network and self._rate:
                rate, status, rng = self._rate
                if rng.random() < rate:
                    return {"status": status, "title": None, "detail": "Injected random failure"}
        return None
