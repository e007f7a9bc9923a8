"""The intent policy of an audience pool: which cards the enrichment gate may buy contact data for.

A policy is a JSON object validated against
`contracts/intelligence/intent-policy.v2.schema.json`. The gate
(`sxe.orchestrator.gate.check_policy`) reads it; every key but
`allowed_providers` and `max_cost_credits_per_lead` is optional.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.cards import Readiness, transition_pool
from sxe.contracts import load_contracts
from sxe.db import sql
from sxe.errors import ContractViolation, UsageError

INTENT_POLICY_SCHEMA = "https://schemas.sxe.dev/intelligence/intent-policy.v2.json"
# Readiness reason of a card sent back to tagged because its pool's policy changed.
INTENT_CHANGED = "intent_changed"


class InvalidIntentPolicy(UsageError):
    """An intent policy does not match its schema; the message names the field and the fix."""


def validate_intent(policy: Any, *, source: str = "intent policy") -> dict[str, Any]:
    """Return `policy` when it matches the schema; raise InvalidIntentPolicy naming the failing field."""
    try:
        load_contracts().validate(policy, INTENT_POLICY_SCHEMA)
    except ContractViolation as violation:
        raise InvalidIntentPolicy(
            f"invalid {source}: {violation}; see contracts/intelligence/intent-policy.v2.schema.json"
        ) from None
    minimum, maximum = policy.get("min_followers"), policy.get("max_followers")
    if minimum is not None and maximum is not None and maximum < minimum:
        raise InvalidIntentPolicy(
            f"invalid {source}: max_followers ({maximum}) is below min_followers ({minimum}); raise max_followers"
        )
    return dict(policy)


def read_intent_file(path: Path) -> dict[str, Any]:
    """Read and validate an intent policy JSON file; raise UsageError naming the file and the problem."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read intent policy file {path}: {error.strerror}; pass an existing file") from None
    except json.JSONDecodeError as error:
        raise UsageError(
            f"intent policy file {path} is not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    return validate_intent(document, source=f"intent policy file {path}")


def set_intent(conn: psycopg.Connection[Any], pool: str, policy: dict[str, Any]) -> dict[str, Any]:
    """Validate `policy` and store it as the intent of `pool`, creating the pool when missing.

    The pool's disqualified cards go back to `tagged`, so the next sweep decides them
    under the new policy.
    """
    checked = validate_intent(policy)
    conn.execute(sql("pools_set_intent"), {"name": pool, "intent": Jsonb(checked)})
    transition_pool(conn, pool, [Readiness.DISQUALIFIED], Readiness.TAGGED, INTENT_CHANGED)
    return checked
