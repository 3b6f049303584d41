"""The public surface of wayline.protocol changes only on purpose."""

from __future__ import annotations

import subprocess
import sys

import wayline.protocol


def test_public_names() -> None:
    assert sorted(wayline.protocol.__all__) == [
        "ALL_ROUTES",
        "Field",
        "FieldKind",
        "JsonDict",
        "Method",
        "REGISTRY_ROUTES",
        "Route",
        "TRACE_ROUTES",
        "TRACKING_ROUTES",
        "WEBHOOK_ROUTES",
        "decode_dataset",
        "decode_dataset_input",
        "decode_dataset_summary",
        "decode_experiment",
        "decode_experiment_tag",
        "decode_input_tag",
        "decode_logged_model",
        "decode_metric",
        "decode_model_input",
        "decode_model_output",
        "decode_model_version",
        "decode_model_version_tag",
        "decode_page",
        "decode_param",
        "decode_registered_model",
        "decode_registered_model_tag",
        "decode_registry_change",
        "decode_run",
        "decode_run_data",
        "decode_run_info",
        "decode_run_inputs",
        "decode_run_outputs",
        "decode_run_tag",
        "decode_webhook",
        "decode_webhook_delivery",
        "decode_webhook_event",
        "decode_webhook_test_result",
        "encode_dataset",
        "encode_dataset_input",
        "encode_dataset_summary",
        "encode_double",
        "encode_experiment",
        "encode_logged_model",
        "encode_metric",
        "encode_model_input",
        "encode_model_output",
        "encode_model_version",
        "encode_page",
        "encode_query",
        "encode_query_bool",
        "encode_registered_model",
        "encode_registry_change",
        "encode_registry_tag",
        "encode_request",
        "encode_run",
        "encode_run_data",
        "encode_run_info",
        "encode_run_inputs",
        "encode_run_outputs",
        "encode_tag",
        "encode_webhook",
        "encode_webhook_delivery",
        "encode_webhook_event",
        "encode_webhook_test_result",
        "expand_path",
        "lower_camel",
        "missing_parameter",
        "parse_body",
        "parse_bool",
        "parse_double",
        "parse_int",
        "parse_logged_model_status",
        "parse_model_version_status",
        "parse_request",
        "parse_run_status",
        "parse_str",
        "parse_version",
        "parse_view_type",
        "parse_webhook_status",
        "query_lists",
        "route",
        "run_id_of",
        "urls",
    ]
    for name in wayline.protocol.__all__:
        assert hasattr(wayline.protocol, name)


def test_importing_the_protocol_loads_no_heavy_modules() -> None:
    # The REST client imports this package; it must stay cheap to import.
    code = (
        "import sys, wayline.protocol; "
        "print(sorted(m for m in ('pandas', 'sqlalchemy', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
