"""Schemathesis hooks for Buuta (loaded by .ci/schemathesis through SCHEMATHESIS_HOOKS)."""

import re
import uuid

import schemathesis

# What the spec allows for `Idempotency-Key` (components/parameters/IdempotencyKey).
_VALID_KEY = re.compile(r"^[\x21-\x7E]{1,200}$")


@schemathesis.hook
def map_case(context, case):
    """A fresh Idempotency-Key for every schema-valid request that carries one.

    Generated keys repeat ("0", "!", ...) across operations and bodies, and the contract
    answers a key reused with another path or body with 422 `idempotency_key_reused`:
    right for the server, but it would read as "valid data rejected". Keys the spec
    forbids are left alone so the 422 for a malformed key is still exercised; replays
    of a key are covered by the integration tests (tests/api).
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) \
                and _VALID_KEY.match(headers[name]):
            headers[name] = f"st-{uuid.uuid4()}"
    return case


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drop one kind of failure only: "schema-valid request rejected" (ST202) for a
    request whose path holds a null.

    The stateful phase feeds values found in answers into other operations' paths,
    e.g. a user's `agency_id` into `/agencies/{id}`. When the answer's value is null
    the path segment becomes "None", which is not the integer the spec requires, and
    the server rightly answers 400 `invalid_path`. Every other failure is kept, and so
    is this one for any request whose path parameters are all set. (The null is
    matched as None or as its text "None", however the phase keeps it.)
    """
    if getattr(failure, "code", None) != "ST202":
        return True
    params = case.path_parameters or {}
    return not any(value is None or value == "None" for value in params.values())
