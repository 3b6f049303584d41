"""Webhook signatures, checked the way a receiver would check them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from wayline.webhooks import sign, verify_signature

BODY = b'{"entity": "model_version", "action": "created", "data": {"name": "m\xc3\xa9"}}'


def test_signature_is_mlflows_hmac_sha256_over_id_timestamp_and_body() -> None:
    signature = sign("s3cret", "d-1", "1700000000", BODY)

    # Recomputed independently, as MLflow's documentation tells receivers to.
    content = "d-1.1700000000." + BODY.decode("utf-8")
    digest = hmac.new(b"s3cret", content.encode("utf-8"), hashlib.sha256).digest()
    assert signature == "v1," + base64.b64encode(digest).decode()
    assert sign("s3cret", "d-1", "1700000000", BODY.decode("utf-8")) == signature


def _check(
    secret: str = "s3cret",
    *,
    signature: str,
    delivery_id: str = "d-1",
    timestamp: str | None = None,
    body: bytes = BODY,
    tolerance_s: float | None = 300.0,
    now: float | None = None,
) -> bool:
    stamp = str(int(time.time())) if timestamp is None else timestamp
    return verify_signature(
        secret,
        delivery_id=delivery_id,
        timestamp=stamp,
        body=body,
        signature=signature,
        tolerance_s=tolerance_s,
        now=now,
    )


def test_verify_accepts_a_fresh_signature_and_refuses_tampering() -> None:
    signature = sign("s3cret", "d-1", str(int(time.time())), BODY)

    assert _check(signature=signature)
    assert not _check("other", signature=signature)
    assert not _check(signature=signature, body=BODY + b" ")
    assert not _check(signature=signature, delivery_id="d-2")
    assert not _check(signature="v1,AAAA")
    assert not _check(signature="v1,é")  # not ASCII: no crash


def test_verify_accepts_one_of_several_signatures() -> None:
    stamp = str(int(time.time()))
    good = sign("s3cret", "d-1", stamp, BODY)
    header = f"v1,bm90LWl0 {good}"
    assert verify_signature(
        "s3cret", delivery_id="d-1", timestamp=stamp, body=BODY, signature=header
    )


def test_verify_refuses_old_or_garbled_timestamps_unless_told_not_to_check() -> None:
    old = "1700000000"
    signature = sign("s3cret", "d-1", old, BODY)

    assert not _check(signature=signature, timestamp=old)
    assert _check(signature=signature, timestamp=old, tolerance_s=None)
    assert _check(signature=signature, timestamp=old, now=1700000000 + 299)
    assert not _check(signature=signature, timestamp=old, now=1700000000 + 301)
    assert not _check(signature=signature, timestamp="yesterday")
