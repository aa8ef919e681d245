"""Handler registry and helpers shared by the resource modules."""

import copy

from ..errors import not_found

HANDLERS = {}


def handles(method, template):
    """Register ``func(ctx)`` for a spec operation, e.g. ``handles("GET", "/lists/{listId}")``."""

    def decorator(func):
        HANDLERS[f"{method} {template}"] = func
        return func

    return decorator


class Context:
    """What a handler sees: the emulator, the caller's account, and the decoded request."""

    def __init__(self, emulator, account, params, body, query):
        self.emulator = emulator
        self.account = account
        self.params = params
        self.body = body if body is not None else {}
        self.query = query

    def mailing_list(self):
        found = self.account.lists.get(self.params["listId"])
        if found is None:
            raise not_found("The requested resource could not be found.")
        return found

    def store(self):
        found = self.account.stores.get(self.params["storeId"])
        if found is None:
            raise not_found("The requested resource could not be found.")
        return found


def page(items, query, key, **extra):
    """Mailchimp-style collection: ``count`` (default 10, max 1000) and ``offset``."""
    count = min(int(query.get("count", 10) or 10), 1000)
    offset = int(query.get("offset", 0) or 0)
    items = list(items)
    result = {key: copy.deepcopy(items[offset : offset + count]), "total_items": len(items), "_links": []}
    result.update(extra)
    return result


def merge(target, changes, exclude=()):
    """Shallow-merge ``changes`` into ``target``, merging nested dicts one level deep."""
    for name, value in changes.items():
        if name in exclude:
            continue
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            target[name].update(copy.deepcopy(value))
        else:
            target[name] = copy.deepcopy(value)


def _tree(paths):
    tree = {}
    for path in paths.split(","):
        node = tree
        for part in [p for p in path.strip().split(".") if p]:
            node = node.setdefault(part, {})
    return tree


def _keep(value, tree):
    if not tree:
        return value
    if isinstance(value, list):
        return [_keep(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: _keep(value[key], sub) for key, sub in tree.items() if key in value}
    return value


def _drop(value, tree):
    if isinstance(value, list):
        return [_drop(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, inner in value.items():
        if key in tree and not tree[key]:
            continue
        result[key] = _drop(inner, tree[key]) if key in tree else inner
    return result


def select_fields(body, query):
    """Apply Mailchimp's ``fields`` / ``exclude_fields`` (comma-separated, dotted) to a response."""
    if not isinstance(body, dict):
        return body
    if query.get("fields"):
        body = _keep(body, _tree(query["fields"]))
    if query.get("exclude_fields"):
        body = _drop(body, _tree(query["exclude_fields"]))
    return body
