"""The ingest contracts: the webhook batch schema, its committed example and the format schemas."""

from __future__ import annotations

import json
from pathlib import Path

from sxe.contracts import iter_errors, load_contracts
from sxe.ingest.formats import FORMATS, JSON_FORMATS

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
WEBHOOK_BATCH_V1 = "https://schemas.sxe.dev/ingest/webhook-batch.v1.json"


def test_webhook_example_is_valid() -> None:
    example = json.loads((CONTRACTS / "ingest" / "examples" / "webhook-batch.v1.json").read_text(encoding="utf-8"))

    assert list(iter_errors(example, WEBHOOK_BATCH_V1)) == []


def test_webhook_example_records_match_their_format() -> None:
    example = json.loads((CONTRACTS / "ingest" / "examples" / "webhook-batch.v1.json").read_text(encoding="utf-8"))
    schema_id = FORMATS[example["format"]].schema_id

    for record in example["records"]:
        assert list(iter_errors(record, schema_id)) == []


def test_webhook_formats_are_the_json_formats() -> None:
    schema = load_contracts(CONTRACTS).schema(WEBHOOK_BATCH_V1)

    assert schema["properties"]["format"]["enum"] == list(JSON_FORMATS)


def test_every_format_has_a_schema() -> None:
    ids = set(load_contracts(CONTRACTS).schema_ids)

    assert {source_format.schema_id for source_format in FORMATS.values()} <= ids


def test_webhook_batch_rejects_unknown_keys() -> None:
    batch = {"source": "s", "format": "x-api-v2", "pool": "default", "records": [{}], "extra": 1}

    [violation] = list(iter_errors(batch, WEBHOOK_BATCH_V1))

    assert "extra" in str(violation)
