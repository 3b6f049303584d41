"""``s3_root``: a fresh bucket on a moto S3 server on loopback, with the client env pointing at it.

moto runs in server mode (a real HTTP server on 127.0.0.1, started once per session), so s3fs
talks to it exactly as it talks to S3: nothing in Wayline is patched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_root(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<new bucket>/root``, with ``MLFLOW_S3_ENDPOINT_URL`` and credentials set."""
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", moto_endpoint)
    bucket = f"wl-{uuid.uuid4().hex[:12]}"
    # moto's server does not check signatures, so a plain PUT creates the bucket.
    httpx.put(f"{moto_endpoint}/{bucket}").raise_for_status()
    return f"s3://{bucket}/root"
