"""Explain a lead card: its profiles and the evidence that linked them, its labels, its readiness, its enrichment.

`explain(conn, reference)` takes a card id or `PLATFORM:HANDLE` (`x:jane_doe`)
and returns one JSON-ready dict. Every value comes from Tier 1 profile fields
and Tier 3 rows, so the output holds no email address or phone number.

Nothing is recomputed: `tribes` lists the card's stored tribe labels
(`execution.card_labels`), the same rows the handoff records and the enrichment
gate read, each with every rule that fired for it and the terms each matched.
The pool communities that `sxe.intelligence.tribes.refresh_tribes` groups from
shared terms are a different thing and come under `communities`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

import psycopg

from sxe.db import sql
from sxe.errors import UsageError
from sxe.handoff.records import CONTRACT_PLATFORMS
from sxe.models import Platform
from sxe.orchestrator.explain import enrichment_report, render_enrichment, whole_seconds

_HANDLE_REFERENCE = re.compile(r"^(?P<platform>[a-z]+):@?(?P<handle>\S+)$")


class CardNotFound(UsageError):
    """No card matches the card id or PLATFORM:HANDLE reference."""


def find_card(conn: psycopg.Connection[Any], reference: str) -> UUID:
    """Return the card id that `reference` names; raise UsageError or CardNotFound with the fix."""
    text = reference.strip()
    try:
        return UUID(text)
    except ValueError:
        pass

    match = _HANDLE_REFERENCE.match(text.lower())
    platforms = ", ".join(platform.value for platform in Platform)
    if match is None or match["platform"] not in {platform.value for platform in Platform}:
        raise UsageError(
            f"invalid card reference {reference!r}: pass a card id (a UUID) or PLATFORM:HANDLE "
            f"with PLATFORM one of {platforms}, for example x:jane_doe"
        )
    row = conn.execute(sql("explain_card_by_handle"), dict(match.groupdict())).fetchone()
    if row is None:
        raise CardNotFound(f"no lead card holds the {match['platform']} profile @{match['handle']}; check the handle")
    return UUID(str(row["card_id"]))


def explain(conn: psycopg.Connection[Any], reference: str) -> dict[str, Any]:
    """Return why the card named by `reference` looks as it does; raise CardNotFound when it does not exist."""
    card_id = find_card(conn, reference)
    card = conn.execute(sql("explain_card"), {"card_id": card_id}).fetchone()
    if card is None:
        raise CardNotFound(f"lead card {card_id} does not exist; check the id")

    profiles = conn.execute(sql("explain_profiles"), {"card_id": card_id}).fetchall()
    profile_ids = [row["id"] for row in profiles]
    links = conn.execute(sql("explain_links"), {"profile_ids": profile_ids}).fetchall() if profile_ids else []
    labels = [_label(row) for row in conn.execute(sql("explain_labels"), {"card_id": card_id})]
    communities = conn.execute(sql("explain_tribes"), {"card_id": card_id}).fetchall()
    history = conn.execute(sql("explain_history"), {"card_id": card_id}).fetchall()

    return {
        "card_id": str(card_id),
        "pool": card["pool"],
        "readiness": card["readiness"],
        "readiness_reason": card["readiness_reason"],
        "handoff_held": _handoff_held(profiles),
        "merged_into": None if card["merged_into"] is None else str(card["merged_into"]),
        "person_id": None if card["person_id"] is None else str(card["person_id"]),
        "ruleset_version": card["ruleset_version"],
        "language": card["language"],
        "signals": card["signals"],
        "profiles": [_profile(row) for row in profiles],
        "links": [_link(row) for row in links],
        "labels": labels,
        "tribes": [_tribe(label) for label in labels if label["kind"] == "tribe"],
        "communities": [
            {"slug": row["slug"], "name": row["name"], "score": row["score"], "terms": row["terms"]}
            for row in communities
        ],
        "history": [
            {
                "from": row["previous"],
                "to": row["readiness"],
                "reason": row["reason"],
                "at": row["created_at"].isoformat(),
            }
            for row in history
        ],
        "enrichment": enrichment_report(conn, card_id),
    }


def _handoff_held(profiles: list[dict[str, Any]]) -> str | None:
    """Return why no lead-card version can carry the card, or None when one can."""
    platforms = {row["platform"] for row in profiles}
    if not platforms or platforms & CONTRACT_PLATFORMS:
        return None
    return (
        f"no profile on a platform the lead-card contract lists ({', '.join(sorted(CONTRACT_PLATFORMS))}), "
        f"so the card waits for a lead-card version that lists {', '.join(sorted(platforms))}"
    )


def _profile(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile_id": str(row["id"]),
        "platform": row["platform"],
        "handle": row["handle"],
        "display_name": row["display_name"],
        "followers": row["followers"],
        "website_domain": row["website_domain"],
        "verified": row["verified"],
        "quality_flags": row["quality_flags"],
    }


def _link(row: dict[str, Any]) -> dict[str, Any]:
    evidence = {key: value for key, value in row["evidence"].items() if key != "pair_confidence"}
    return {
        "profiles": [row["profile"], row["other_profile"]],
        "signal": row["signal"],
        "confidence": round(float(row["confidence"]), 4),
        "pair_confidence": row["evidence"].get("pair_confidence"),
        "evidence": evidence,
        "state": row["state"],
        "reason": row["reason"],
    }


def _label(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "value": row["value"],
        "rule": row["rule_id"],
        "version": row["ruleset_version"],
        "score": round(float(row["score"]), 4),
        "evidence": row["evidence"],
    }


def _tribe(label: dict[str, Any]) -> dict[str, Any]:
    """Return a stored tribe label with the rules that fired for it, each with its score and matches."""
    return {
        "value": label["value"],
        "rule": label["rule"],
        "version": label["version"],
        "score": label["score"],
        "rules": _fired_rules(label),
    }


def _fired_rules(label: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the rules that fired for a stored label, best first, each with its score and the matches it found."""
    evidence = label["evidence"]
    matches = evidence.get("matches", [])
    # Labels stored before the evidence listed every rule carry only the winning rule.
    fired = evidence.get("rules") or [{"rule_id": label["rule"], "score": label["score"]}]
    return [
        {
            "rule": rule["rule_id"],
            "score": round(float(rule["score"]), 4),
            "matches": [match for match in matches if match.get("rule_id", label["rule"]) == rule["rule_id"]],
        }
        for rule in fired
    ]


def render(report: dict[str, Any]) -> str:
    """Format an `explain` report for people."""
    lines = [f"Lead card {report['card_id']} (pool {report['pool']})", ""]
    lines.append(f"Readiness: {report['readiness']}" + _reason(report["readiness_reason"]))
    if report["handoff_held"]:
        lines.append(f"  not handed off: {report['handoff_held']}")
    if report["merged_into"]:
        lines.append(f"  merged into card {report['merged_into']}: run `sxe explain {report['merged_into']}`")
    if report["language"]:
        lines.append(f"Bio language: {report['language']}")

    lines += ["", f"Profiles ({len(report['profiles'])}):"]
    for profile in report["profiles"]:
        followers = "?" if profile["followers"] is None else f"{profile['followers']:,}"
        flags = f"  flags: {', '.join(profile['quality_flags'])}" if profile["quality_flags"] else ""
        name = profile["display_name"] or ""
        lines.append(f"  {profile['platform']}:{profile['handle']}  {name}  {followers} followers{flags}")

    lines += ["", "Identity links:"]
    if not report["links"]:
        lines.append("  none: no other profile shares evidence with these")
    for link in report["links"]:
        evidence = ", ".join(f"{key} {value}" for key, value in link["evidence"].items())
        state = "" if link["state"] == "active" else f" [{link['state']}: {link['reason']}]"
        lines.append(
            f"  {link['profiles'][0]} = {link['profiles'][1]}  {link['signal']} ({evidence}), "
            f"confidence {link['confidence']}{state}"
        )

    lines += ["", "Labels:"]
    if not report["labels"]:
        lines.append("  none yet: the card has not been tagged")
    for label in report["labels"]:
        if label["kind"] == "tribe":
            continue
        lines.append(
            f"  {label['kind']} {label['value']}  score {label['score']}  rule {label['rule']} ({label['version']})"
        )
        lines += _evidence_lines(_fired_rules(label))
    lines += _stale_labels_line(report)

    lines += ["", "Tribes (stored labels):"]
    if not report["tribes"]:
        lines.append("  none" if report["labels"] else "  none yet: the card has not been tagged")
    for tribe in report["tribes"]:
        lines.append(f"  {tribe['value']}  score {tribe['score']}  rule {tribe['rule']} ({tribe['version']})")
        lines += _evidence_lines(tribe["rules"])

    if report["communities"]:
        lines += ["", "Pool communities (grouped from terms shared with other cards, not ruleset tribes):"]
        lines += [
            f"  {community['name']}  score {community['score']}  terms {community['terms']}"
            for community in report["communities"]
        ]

    if report["signals"]:
        lines += ["", "Signals:"]
        lines += [f"  {key}: {json.dumps(value, default=str)}" for key, value in sorted(report["signals"].items())]

    lines += ["", "History:"]
    lines += [
        f"  {whole_seconds(step['at'])}  {step['from'] or '?'} -> {step['to']}{_reason(step['reason'])}"
        for step in report["history"]
    ]
    lines += ["", *render_enrichment(report["enrichment"])]
    return "\n".join(lines)


def _evidence_lines(rules: list[dict[str, Any]]) -> list[str]:
    """Return the matches of the rules that fired for a label, under a line naming each rule when there are several."""
    if len(rules) == 1:
        return _match_lines(rules[0]["matches"])
    lines = []
    for rule in rules:
        lines.append(f"    {rule['rule']}  score {rule['score']}")
        lines += _match_lines(rule["matches"])
    return lines


def _match_lines(matches: list[dict[str, Any]]) -> list[str]:
    lines = []
    for match in matches:
        found = match.get("matched", match.get("value"))
        lines.append(f"      {match.get('platform')}:{match.get('handle')} {match.get('field')}: {found}")
    return lines


def _stale_labels_line(report: dict[str, Any]) -> list[str]:
    """Warn when the stored labels come from a ruleset version other than the one the card records."""
    versions = sorted({label["version"] for label in report["labels"]})
    if not versions or versions == [report["ruleset_version"]]:
        return []
    card_version = report["ruleset_version"] or "none"
    return [f"  NOTE: labels are from {', '.join(versions)}, the card records {card_version}; it awaits re-tagging"]


def _reason(reason: str | None) -> str:
    return f" ({reason})" if reason else ""
