"""Mailchimp-shaped problem documents (``application/problem+json``)."""

import uuid

ERROR_DOC_URL = "https://mailchimp.com/developer/marketing/docs/errors/"

TITLES = {
    400: "Invalid Resource",
    401: "API Key Invalid",
    403: "Forbidden",
    404: "Resource Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """Raised by handlers; turned into a problem response by the dispatcher."""

    def __init__(self, status, detail="", title=None, errors=None, violation=False):
        super().__init__(detail)
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.errors = errors
        self.violation = violation

    def problem(self):
        return problem(self.status, self.detail, self.title, self.errors)


def problem(status, detail="", title=None, errors=None):
    doc = {
        "type": ERROR_DOC_URL,
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    if errors:
        doc["errors"] = errors
    return doc


def not_found(what="The requested resource could not be found."):
    return ApiError(404, what)


def invalid(detail, errors=None, title=None):
    return ApiError(400, detail, title=title, errors=errors)


def require(body, *fields):
    """Mailchimp's own required-field check; missing fields are request-shape errors (violations)."""
    missing = [name for name in fields if body.get(name) in (None, "")]
    if missing:
        raise ApiError(
            400,
            "Your request doesn't appear to be valid JSON or is missing required fields.",
            errors=[{"field": name, "message": "This value should not be blank."} for name in missing],
            violation=True,
        )
