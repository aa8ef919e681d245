"""The unauthenticated ``/_emulator/`` control API, for demos and tests in other processes."""

import json
import re

from .errors import ApiError, problem

FAULT_KINDS = ("fail", "fail_email", "failure_rate", "latency", "hang", "reset_connection", "redirect")
RESULT_RE = re.compile(r"^/batch-results/([0-9a-f]+)\.tar\.gz$")


def handle(emulator, method, path, query, raw):
    """Return ``(status, body, content_type)``; body is JSON-ready, bytes or None."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        return 400, problem(400, "Body must be JSON"), None
    try:
        return _route(emulator, method, path, body, query or {})
    except (KeyError, TypeError, ValueError) as exc:
        return 400, problem(400, f"Bad control request: {exc!r}"), None


def _route(emulator, method, path, body, query):
    match = RESULT_RE.match(path)
    if match and method == "GET":
        archive = emulator.batch_worker.results.get(match.group(1))
        if archive is None:
            return 404, problem(404, f"No results for batch {match.group(1)}"), None
        return 200, archive, "application/gzip"
    if (method, path) == ("POST", "/accounts"):
        return 200, {"api_key": emulator.add_account(body.get("api_key"), body.get("dc", "us1"))}, None
    if (method, path) == ("POST", "/lists"):
        list_id = emulator.add_list(
            body["api_key"],
            body.get("name", "Demo audience"),
            body.get("list_id"),
            marketing_permissions=body.get("marketing_permissions"),
        )
        return 200, {"id": list_id}, None
    if (method, path) == ("GET", "/rules"):
        settings = emulator.rule_settings(query.get("api_key"), query.get("list_id"))
        return 200, {"rules": settings, "batch_seed": emulator.batch_seed}, None
    if (method, path) == ("POST", "/rules"):
        emulator.set_rule(body["rule"], body["on"], body.get("api_key"), body.get("list_id"))
        return 200, {"rules": emulator.rule_settings(body.get("api_key"), body.get("list_id"))}, None
    if (method, path) == ("POST", "/batch-seed"):
        return 200, {"batch_seed": emulator.set_batch_seed(body.get("seed"))}, None
    if (method, path) == ("GET", "/confirmations"):
        return 200, emulator.confirmations(query["api_key"], query.get("list_id")), None
    if (method, path) == ("GET", "/notifications"):
        return 200, emulator.notifications(query["api_key"], query.get("store_id")), None
    if (method, path) == ("GET", "/tag-automations"):
        return 200, emulator.tag_automations(query["api_key"], query.get("list_id")), None
    if (method, path) == ("POST", "/members/status"):
        try:
            member = emulator.set_member_status(
                body["api_key"], body["list_id"], body["email"], body["status"]
            )
        except KeyError:
            return 404, problem(404, "No such account, list or member"), None
        return 200, member, None
    if (method, path) == ("POST", "/members/add"):
        emulator.add_members(body["api_key"], body["list_id"], body["emails"], body.get("status", "subscribed"),
                             body.get("last_changed"))
        return 200, {"added": len(body["emails"])}, None
    if (method, path) == ("POST", "/members/edit"):
        options = {name: body[name] for name in ("status", "new_email", "delete") if name in body}
        try:
            member = emulator.edit_member_by_hand(body["api_key"], body["list_id"], body["email"], **options)
        except KeyError:
            return 404, problem(404, "No such account, list or member"), None
        return 200, member or {"deleted": True}, None
    if (method, path) == ("POST", "/events"):
        required = {name: body[name] for name in ("api_key", "list_id", "type", "email")}
        options = {name: body[name] for name in ("source", "new_email", "merges") if name in body}
        try:
            member, deliveries = emulator.fire_event(**required, **options)
        except KeyError:
            return 404, problem(404, "No such account, list or member"), None
        except ApiError as exc:  # upemail to an invalid or taken address
            return exc.status, exc.problem(), None
        deliveries = [{"url": url, "status": status} for url, status in deliveries]
        return 200, {"member": member, "deliveries": deliveries}, None
    if (method, path) == ("POST", "/faults"):
        kind = body.pop("kind")
        if kind not in FAULT_KINDS:
            return 400, problem(400, f"kind must be one of {', '.join(FAULT_KINDS)}"), None
        getattr(emulator.faults, kind)(**body)
        return 200, {"ok": True}, None
    simple = {
        ("GET", "/requests"): lambda: emulator.requests,
        ("DELETE", "/requests"): emulator.clear_requests,
        ("GET", "/violations"): lambda: emulator.violations,
        ("DELETE", "/violations"): emulator.clear_violations,
        ("GET", "/stats"): lambda: emulator.stats,
        ("DELETE", "/stats"): emulator.reset_stats,
        ("DELETE", "/faults"): emulator.faults.clear,
        ("POST", "/faults/release-hangs"): emulator.release_hangs,
        ("POST", "/reset"): emulator.reset,
        ("GET", "/state"): lambda: emulator.state,
    }
    action = simple.get((method, path))
    if action is None:
        return 404, problem(404, f"Unknown control endpoint {method} {path}"), None
    result = action()
    return (
        200,
        (list(result) if isinstance(result, list) else result) if result is not None else {"ok": True},
        None,
    )
