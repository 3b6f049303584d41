"""Webhook signatures: MLflow's headers and its HMAC-SHA256 scheme, for senders and receivers.

A delivery carries ``X-MLflow-Delivery-Id`` (a uuid4, the same on every retry),
``X-MLflow-Timestamp`` (unix seconds of the attempt) and, when the webhook has a secret,
``X-MLflow-Signature: v1,<base64 HMAC-SHA256(secret, "<delivery_id>.<timestamp>.<body>")>``.
A receiver recomputes the HMAC over the raw body it got, compares in constant time and refuses
old timestamps (replay)::

    from wayline.webhooks import verify_signature

    ok = verify_signature(
        secret,
        delivery_id=request.headers["X-MLflow-Delivery-Id"],
        timestamp=request.headers["X-MLflow-Timestamp"],
        body=raw_body,
        signature=request.headers["X-MLflow-Signature"],
    )
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300.0


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes | str) -> str:
    """The ``X-MLflow-Signature`` value for one delivery attempt: ``v1,<base64 digest>``."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    message = f"{delivery_id}.{timestamp}.".encode() + raw
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify_signature(
    secret: str,
    *,
    delivery_id: str,
    timestamp: str,
    body: bytes | str,
    signature: str,
    tolerance_s: float | None = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` (the header value, possibly several space-separated ``v1,…``
    entries) signs this delivery with ``secret``, and the timestamp is within ``tolerance_s`` of
    ``now`` (None skips the age check)."""
    if tolerance_s is not None:
        try:
            age = abs((time.time() if now is None else now) - int(timestamp))
        except ValueError:
            return False
        if age > tolerance_s:
            return False
    expected = sign(secret, delivery_id, timestamp, body).encode()
    # Bytes, not str: compare_digest refuses non-ASCII text, which a forged header may hold.
    return any(hmac.compare_digest(expected, c.encode()) for c in signature.split())


__all__ = [
    "DELIVERY_ID_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "TIMESTAMP_HEADER",
    "sign",
    "verify_signature",
]
