"""Loading and applying the Mailchimp OpenAPI description.

The description ships gzipped in ``openapi/`` beside this module (its README there tells where it
comes from, the one local change and its licence). ``SHOOP_MAILCHIMP_OPENAPI_SPEC`` names another
copy, ``.json`` or ``.json.gz``, to try a newer description.
"""

import gzip
import json
import os
import re
import threading

try:
    from openapi_schema_validator import OAS30Validator
except ImportError:  # without the "emulator" extra requests are routed by the spec, not validated
    OAS30Validator = None

SPEC_ENV = "SHOOP_MAILCHIMP_OPENAPI_SPEC"
BUNDLED_SPEC_PATH = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "openapi", "marketing-3.0.85.openapi.json.gz"
)
METHODS = ("get", "put", "post", "patch", "delete")

_cache = {}
_cache_lock = threading.Lock()


class SpecNotFound(RuntimeError):
    """The description named by ``SHOOP_MAILCHIMP_OPENAPI_SPEC`` (or passed in) is not a file."""


def validation_available():
    """Whether requests can be checked against the schemas (the ``emulator`` extra is installed)."""
    return OAS30Validator is not None


def spec_path():
    """The description to use: the one ``SHOOP_MAILCHIMP_OPENAPI_SPEC`` names, else the bundled one."""
    return os.environ.get(SPEC_ENV) or BUNDLED_SPEC_PATH


def load_spec(path=None):
    """Load (once per process and path) and return a :class:`Spec`."""
    path = path or spec_path()
    with _cache_lock:
        if path not in _cache:
            _cache[path] = Spec(_read_document(path), path)
        return _cache[path]


def _read_document(path):
    if not os.path.isfile(path):
        raise SpecNotFound(f"No Mailchimp OpenAPI description at {path} (check {SPEC_ENV})")
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


class Route:
    """One operation of the spec: method + path template, with its compiled validators."""

    def __init__(self, spec, method, template, operation):
        self.spec = spec
        self.method = method.upper()
        self.template = template
        self.operation = operation
        self.segments = template.strip("/").split("/") if template != "/" else []
        self.literal_count = sum(1 for seg in self.segments if not seg.startswith("{"))
        self._request_validator = None
        self._response_validators = {}
        self._lock = threading.Lock()

    def match(self, segments):
        if len(segments) != len(self.segments):
            return None
        params = {}
        for mine, theirs in zip(self.segments, segments):
            if mine.startswith("{"):
                if not theirs:
                    return None
                params[mine[1:-1]] = theirs
            elif mine != theirs:
                return None
        return params

    @property
    def key(self):
        return f"{self.method} {self.template}"

    def request_body_schema(self):
        body = self.operation.get("requestBody")
        if not body:
            return None, False
        content = body.get("content", {})
        media = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema"), bool(body.get("required"))

    def validate_request(self, body, query):
        """Return a list of messages describing why the spec refuses this request."""
        errors = self._validate_query(query)
        schema, required = self.request_body_schema()
        if schema is None:
            return errors
        if body is None:
            if required:
                errors.append(f"A request body is required for {self.key}")
            return errors
        with self._lock:
            if self._request_validator is None:
                self._request_validator = self.spec.validator_for(schema)
        errors.extend(_format_error(err) for err in self._request_validator.iter_errors(body))
        return errors

    def _validate_query(self, query):
        errors = []
        for param in self.operation.get("parameters", []):
            if param.get("in") != "query" or param["name"] not in query:
                continue
            schema = param.get("schema", {})
            value = query[param["name"]]
            if schema.get("type") == "integer":
                if not re.fullmatch(r"-?\d+", value):
                    errors.append(f"Query parameter {param['name']!r} must be an integer")
                    continue
                number = int(value)
                if "maximum" in schema and number > schema["maximum"]:
                    errors.append(f"Query parameter {param['name']!r} exceeds {schema['maximum']}")
                if "minimum" in schema and number < schema["minimum"]:
                    errors.append(f"Query parameter {param['name']!r} is below {schema['minimum']}")
        return errors

    def validate_response(self, status, body):
        """Return messages describing where a response body departs from the documented schema."""
        responses = self.operation.get("responses", {})
        response = responses.get(str(status)) or responses.get("default")
        if not response:
            return [f"No response {status} documented for {self.key}"]
        content = response.get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), None)
        if not media or "schema" not in media:
            return [] if body in (None, b"", "") else [f"No body documented for {status} {self.key}"]
        with self._lock:
            if status not in self._response_validators:
                self._response_validators[status] = self.spec.validator_for(media["schema"])
        return [_format_error(err) for err in self._response_validators[status].iter_errors(body)]


def _format_error(err):
    where = "/".join(str(part) for part in err.absolute_path)
    return f"{err.message} (at {where})" if where else err.message


class Spec:
    """Router and validator factory built from the ``paths`` of the description read from ``path``."""

    def __init__(self, document, path):
        self.document = document
        self.path = path
        self.routes = []
        for template, item in document["paths"].items():
            for method in METHODS:
                if method in item:
                    self.routes.append(Route(self, method, template, item[method]))
        # Most literal segments first, so "/lists/{id}/members" wins over a more generic template.
        self.routes.sort(key=lambda route: -route.literal_count)
        self._by_key = {route.key: route for route in self.routes}

    def validator_for(self, schema):
        root = dict(schema)
        root["components"] = self.document["components"]
        return OAS30Validator(root)

    def route(self, key):
        return self._by_key.get(key)

    def resolve(self, method, path):
        """Return ``(route, params)``; route is None (params is the set of allowed methods) if unmatched."""
        segments = path.strip("/").split("/") if path.strip("/") else []
        allowed = set()
        for route in self.routes:
            params = route.match(segments)
            if params is None:
                continue
            if route.method == method.upper():
                return route, params
            allowed.add(route.method)
        return None, allowed
