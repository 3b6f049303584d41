"""The one place that turns an artifact URI into a repository, by its scheme.

=============================================  ==============================================
URI                                            repository
=============================================  ==============================================
``/path``, ``C:\\path``, ``file:///p``         FsspecArtifactRepository, local filesystem
``s3://bucket/prefix``                         FsspecArtifactRepository on s3fs (extra ``s3``)
``gs://bucket/prefix``                         … on gcsfs (extra ``gcs``)
``wasbs://<container>@<account>.blob…/p``      … on adlfs (extra ``azure``)
``abfss://<container>@<account>.dfs…/p``       … on adlfs (extra ``azure``)
``hdfs://[namenode[:port]]/p``                 … on pyarrow's HDFS client (extra ``hdfs``)
``mlflow-artifacts:/p``, ``http(s)://``        ProxyArtifactRepository (the server's proxy)
=============================================  ==============================================

The environment is read here, once per repository built, under the names MLflow reads, so a
deployment configured for MLflow works unchanged (``storage_options`` says which):

* S3: ``MLFLOW_S3_ENDPOINT_URL`` (or ``WAYLINE_S3_ENDPOINT_URL``), ``MLFLOW_S3_IGNORE_TLS``;
  credentials are boto's own (``AWS_*``, profiles).
* GCS: ``GOOGLE_CLOUD_PROJECT``; credentials are gcsfs's own lookup
  (``GOOGLE_APPLICATION_CREDENTIALS``, then the gcloud default).
* Azure: ``AZURE_STORAGE_CONNECTION_STRING``, else ``AZURE_STORAGE_ACCESS_KEY`` for the account
  the URI names, else ``AZURE_STORAGE_SAS_TOKEN``, else Azure's default credential chain
  (``AZURE_CLIENT_ID``/``AZURE_CLIENT_SECRET``/``AZURE_TENANT_ID``, managed identity, az login).
* HDFS: ``MLFLOW_KERBEROS_TICKET_CACHE``, ``MLFLOW_KERBEROS_USER`` and
  ``MLFLOW_PYARROW_EXTRA_CONF`` (``key=value,key=value``).

The proxy reads the REST store's variables itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import ParseResult, urlparse

from wayline.artifacts.repository import ArtifactRepository
from wayline.errors import InvalidParameter

_PROXY_SCHEMES = ("mlflow-artifacts", "http", "https")
_TRUE = ("true", "1", "yes")
# The public Azure cloud's blob host suffix: adlfs builds it itself from the account name.
_AZURE_PUBLIC_SUFFIX = "core.windows.net"

OptionsBuilder = Callable[[ParseResult, Mapping[str, str]], dict[str, Any]]


def _s3_options(_: ParseResult, environ: Mapping[str, str]) -> dict[str, Any]:
    client_kwargs: dict[str, Any] = {}
    endpoint = environ.get("WAYLINE_S3_ENDPOINT_URL") or environ.get("MLFLOW_S3_ENDPOINT_URL")
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if environ.get("MLFLOW_S3_IGNORE_TLS", "").strip().lower() in _TRUE:
        client_kwargs["verify"] = False
    # Listings are not cached: other processes write to the same bucket.
    return {"client_kwargs": client_kwargs, "use_listings_cache": False}


def _gcs_options(_: ParseResult, environ: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {"use_listings_cache": False}
    # gcsfs finds credentials itself (GOOGLE_APPLICATION_CREDENTIALS, gcloud's default); the
    # project only matters for bucket-level calls, and gcsfs does not read this variable.
    if project := environ.get("GOOGLE_CLOUD_PROJECT"):
        options["project"] = project
    return options


def _azure_account(parsed: ParseResult) -> tuple[str, str | None]:
    """``(account name, account host or None)`` from ``<container>@<account>.<service>.<sfx>``.

    adlfs speaks the blob API whichever service the URI names (``dfs`` for abfss), so the host
    is the blob host; it is None on Azure's public cloud, where adlfs derives it.
    """
    host = parsed.netloc.partition("@")[2].lower()
    account, _, service_and_suffix = host.partition(".")
    service, _, suffix = service_and_suffix.partition(".")
    if not account or service not in ("blob", "dfs") or not suffix:
        raise InvalidParameter(
            f"Azure artifact URIs look like {parsed.scheme}://<container>@<account>"
            f".blob.core.windows.net/<path>, not {parsed.geturl()!r}"
        )
    return account, None if suffix == _AZURE_PUBLIC_SUFFIX else f"{account}.blob.{suffix}"


def _azure_options(parsed: ParseResult, environ: Mapping[str, str]) -> dict[str, Any]:
    account, account_host = _azure_account(parsed)
    options: dict[str, Any] = {"account_name": account, "use_listings_cache": False}
    if account_host:
        options["account_host"] = account_host
    # MLflow's order: a connection string wins, then the account key, then a SAS token.
    if connection_string := environ.get("AZURE_STORAGE_CONNECTION_STRING"):
        options["connection_string"] = connection_string
    elif key := environ.get("AZURE_STORAGE_ACCESS_KEY"):
        options["account_key"] = key
    elif sas_token := environ.get("AZURE_STORAGE_SAS_TOKEN"):
        options["sas_token"] = sas_token
    else:
        # Not anonymous: adlfs then signs with azure-identity's DefaultAzureCredential, which
        # reads AZURE_CLIENT_ID/SECRET/TENANT_ID, a managed identity or `az login`.
        options["anon"] = False
    return options


def _hdfs_options(parsed: ParseResult, environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        port = parsed.port or 0
    except ValueError:
        raise InvalidParameter(f"HDFS artifact URI {parsed.geturl()!r} has a bad port") from None
    # As MLflow does: no host means the cluster's default name node (fs.defaultFS).
    options: dict[str, Any] = {
        "host": f"hdfs://{parsed.hostname}" if parsed.hostname else "default",
        "port": port,
    }
    if user := environ.get("MLFLOW_KERBEROS_USER"):
        options["user"] = user
    if ticket := environ.get("MLFLOW_KERBEROS_TICKET_CACHE"):
        options["kerb_ticket"] = ticket
    if extra := environ.get("MLFLOW_PYARROW_EXTRA_CONF"):
        options["extra_conf"] = _parse_extra_conf(extra)
    return options


def _parse_extra_conf(text: str) -> dict[str, str]:
    conf: dict[str, str] = {}
    for item in text.split(","):
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise InvalidParameter(
                f"MLFLOW_PYARROW_EXTRA_CONF must be key=value pairs separated by commas, "
                f"not {text!r}"
            )
        conf[key.strip()] = value.strip()
    return conf


_OPTIONS: dict[str, OptionsBuilder] = {
    "s3": _s3_options,
    "gs": _gcs_options,
    "wasbs": _azure_options,
    "abfss": _azure_options,
    "hdfs": _hdfs_options,
}


def storage_options(uri: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The fsspec options for the remote artifact root ``uri``, from ``environ`` (the process
    environment when None). The module docstring lists the variables each scheme reads.

    Example::

        storage_options(
            "wasbs://models@acme.blob.core.windows.net/mlruns",
            {"AZURE_STORAGE_ACCESS_KEY": "..."},
        )  # {"account_name": "acme", "account_key": "...", "use_listings_cache": False}
    """
    parsed = urlparse(uri)
    builder = _OPTIONS.get(parsed.scheme.lower())
    if builder is None:
        raise InvalidParameter(f"{uri!r} is no remote artifact URI")
    return builder(parsed, os.environ if environ is None else environ)


def artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository for artifact ``uri``; ``tracking_uri`` resolves ``mlflow-artifacts:/``.

    Example::

        repo = artifact_repository(run.info.artifact_uri, tracking_uri="http://127.0.0.1:5000")
        for info in repo.list_artifacts():
            print(info.path, info.file_size)
    """
    from wayline.artifacts.fsspec_repo import REMOTE_SCHEMES, FsspecArtifactRepository

    scheme = urlparse(uri).scheme.lower()
    if len(scheme) <= 1 or scheme == "file":
        return FsspecArtifactRepository(uri)
    if scheme in REMOTE_SCHEMES:
        return FsspecArtifactRepository(uri, storage_options(uri))
    if scheme in _PROXY_SCHEMES:
        from wayline.artifacts.proxy_repo import ProxyArtifactRepository

        return ProxyArtifactRepository(uri, tracking_uri)
    raise InvalidParameter(
        f"Unsupported artifact URI {uri!r}: use a local path, file://, s3://, gs://, wasbs://, "
        "abfss://, hdfs:// or mlflow-artifacts:/ (through a tracking server)."
    )


__all__ = ["artifact_repository", "storage_options"]
