"""Real files are messy: each case here is one way scrapers and exports break, read end to end."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from sxe.ingest import ParsedRecord, read_profiles
from sxe.models import Rejection, SourceProfile
from sxe.normalize import normalize

ZWJ_FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
RUNNER = "\U0001f3c3\u200d\u2640\ufe0f"
ARABIC_BIO = "\u0645\u0635\u0645\u0645\u0629 \u062c\u0631\u0627\u0641\u064a\u0643 \u200f\u2014 \u062f\u0628\u064a"
HEBREW_NAME = "\u05e0\u05d5\u05e2\u05d4 \u05db\u05d4\u05df"


def x_user(user_id: str, handle: str, **fields: object) -> dict[str, object]:
    return {"id": user_id, "username": handle, "name": handle.title(), **fields}


def write_jsonl(path: Path, values: list[object], *, line_end: str = "\n", bom: bool = False) -> Path:
    text = line_end.join(json.dumps(value, ensure_ascii=False) for value in values) + line_end
    data = text.encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def parse(path: Path | io.BytesIO, format_name: str | None = None, **options: object) -> list[ParsedRecord]:
    return list(read_profiles(path, format_name, **options))  # type: ignore[arg-type]


def profiles_of(records: list[ParsedRecord]) -> list[SourceProfile]:
    return [record.result for record in records if isinstance(record.result, SourceProfile)]


def rejections_of(records: list[ParsedRecord]) -> list[tuple[str, Rejection]]:
    return [(record.location.describe(), record.result) for record in records if isinstance(record.result, Rejection)]


# Encodings and line ends


def test_bom_before_jsonl_is_skipped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana"), x_user("2", "ben")], bom=True)

    records = parse(path)

    assert [profile.handle for profile in profiles_of(records)] == ["ana", "ben"]
    assert rejections_of(records) == []


def test_bom_before_csv_header_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "followers.csv"
    path.write_bytes(b"\xef\xbb\xbfid,username,platform\n1,ana,x\n")

    [record] = parse(path)

    assert isinstance(record.result, SourceProfile)
    assert record.result.platform_user_id == "1"


def test_crlf_line_ends_in_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana"), x_user("2", "ben")], line_end="\r\n")

    records = parse(path)

    assert [record.location.line for record in records] == [1, 2]
    assert [profile.handle for profile in profiles_of(records)] == ["ana", "ben"]


def test_crlf_line_ends_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "followers.csv"
    path.write_bytes(b'id,username,description,platform\r\n1,ana,"two\r\nlines",x\r\n2,ben,plain,x\r\n')

    records = parse(path)

    assert [profile.bio for profile in profiles_of(records)] == ["two\r\nlines", "plain"]
    assert [record.location.line for record in records] == [2, 4]


# Broken lines


def test_truncated_last_line_is_quarantined(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana"), x_user("2", "ben")])
    path.write_bytes(path.read_bytes() + b'{"id": "3", "username": "ca')

    records = parse(path)

    assert [profile.handle for profile in profiles_of(records)] == ["ana", "ben"]
    [(location, rejection)] = rejections_of(records)
    assert location.endswith(":3")
    assert rejection.kind == "unparseable"
    assert "line 3 is not valid JSON" in rejection.reason


def test_truncated_json_array_keeps_complete_elements(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps([x_user("1", "ana"), x_user("2", "ben")])[:-30], encoding="utf-8")

    records = parse(path, "x-api-v2")

    assert [profile.handle for profile in profiles_of(records)] == ["ana"]
    [(location, rejection)] = rejections_of(records)
    assert location.endswith("[1]")
    assert rejection.kind == "unparseable"


def test_bad_middle_line_keeps_neighbours(tmp_path: Path) -> None:
    path = tmp_path / "users.jsonl"
    good = [json.dumps(x_user(str(n), f"user{n}")) for n in range(1, 5)]
    path.write_text("\n".join([good[0], good[1], "<html>502 Bad Gateway</html>", good[2], good[3]]) + "\n")

    records = parse(path)

    assert len(profiles_of(records)) == 4
    [(location, rejection)] = rejections_of(records)
    assert location.endswith(":3")
    assert "line 3 is not valid JSON" in rejection.reason


def test_quarantine_hash_is_of_raw_line_bytes(tmp_path: Path) -> None:
    bad_line = b'{"id": "9", "username": broken}'
    path = tmp_path / "users.jsonl"
    path.write_bytes(json.dumps(x_user("1", "ana")).encode() + b"\n" + bad_line + b"\r\n")

    records = parse(path)

    assert records[1].raw_sha256 == hashlib.sha256(bad_line).hexdigest()
    assert records[0].raw_sha256 == hashlib.sha256(json.dumps(x_user("1", "ana")).encode()).hexdigest()


def test_array_element_hash_is_of_raw_bytes() -> None:
    element = b'{"id":"1",  "username":"ana"}'
    stream = io.BytesIO(b"[ " + element + b" ,\n" + b'{"id":"2","username":"ben"}]')

    records = parse(stream, "x-api-v2", name="users.json")

    assert records[0].raw_sha256 == hashlib.sha256(element).hexdigest()
    assert [profile.handle for profile in profiles_of(records)] == ["ana", "ben"]


# Counts


@pytest.mark.parametrize(
    ("written", "expected"),
    [("12.3K", 12_300), ("1,234", 1_234), ("1.2M", 1_200_000), (None, None), ("", None), (987, 987)],
)
def test_written_counts_normalize_to_integers(tmp_path: Path, written: object, expected: int | None) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [{"id": "1", "uniqueId": "ana", "followerCount": written}])

    [profile] = profiles_of(parse(path))

    assert normalize(profile).followers == expected


# Text


def test_html_entities_in_bio_are_decoded(tmp_path: Path) -> None:
    bio = "Tea &amp; cake &lt;3 &#8212; &quot;slow living&quot; &#x1F375;"
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana", description=bio, name="Ana &amp; Co")])

    [profile] = profiles_of(parse(path))
    normalized = normalize(profile)

    assert normalized.bio == 'Tea & cake <3 \u2014 "slow living" \U0001f375'
    assert normalized.display_name == "Ana & Co"


def test_zwj_emoji_survive_normalization(tmp_path: Path) -> None:
    bio = f"Family first {ZWJ_FAMILY} runner {RUNNER}"
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana", description=bio, name=f"Ana {RUNNER}")])

    [profile] = profiles_of(parse(path))
    normalized = normalize(profile)

    assert normalized.bio == bio
    assert normalized.display_name == f"Ana {RUNNER}"


def test_right_to_left_text_is_kept(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "noa", description=ARABIC_BIO, name=HEBREW_NAME)])

    [profile] = profiles_of(parse(path))
    normalized = normalize(profile)

    assert normalized.bio == ARABIC_BIO
    assert normalized.display_name == HEBREW_NAME


def test_right_to_left_bio_phone_is_redacted(tmp_path: Path) -> None:
    bio = "\u0644\u0644\u062d\u062c\u0632 +971 50 123 4567 \u0634\u0643\u0631\u0627"
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "noa", description=bio)])

    normalized = normalize(profiles_of(parse(path))[0])

    assert normalized.bio == "\u0644\u0644\u062d\u062c\u0632 [phone] \u0634\u0643\u0631\u0627"
    assert normalized.bio_has_phone


def test_five_thousand_character_bio_is_kept_whole(tmp_path: Path) -> None:
    bio = ("Long story of a small bakery. " * 200)[:4990] + " a@ex.io"
    assert len(bio) == 4998
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana", description=bio)])

    normalized = normalize(profiles_of(parse(path))[0])

    assert normalized.bio is not None
    assert normalized.bio.endswith(" [email]")
    assert len(normalized.bio) == 4990 + len(" [email]")
    assert normalized.bio_has_email


def test_control_characters_are_removed(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana", description="null\u0000byte\u0007 here")])

    normalized = normalize(profiles_of(parse(path))[0])

    assert normalized.bio == "nullbyte here"


# Identity and account state


def test_record_without_id_is_quarantined(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [x_user("1", "ana"), {"username": "noid", "name": "No Id"}])

    records = parse(path, "x-api-v2")

    assert len(profiles_of(records)) == 1
    [(location, rejection)] = rejections_of(records)
    assert location.endswith(":2")
    assert rejection.kind == "missing_identity"


def test_scraper_record_without_id_falls_back_to_handle(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [{"username": "no_id_here", "fullName": "N", "followerCount": 3}])

    [profile] = profiles_of(parse(path, "threads-scraper"))
    normalized = normalize(profile)

    assert normalized.platform_user_id is None
    assert normalized.identity_key == "handle:no_id_here"


@pytest.mark.parametrize(
    ("format_name", "item"),
    [
        ("x-api-v2", {"id": "1", "username": "ana", "protected": True}),
        ("x-api-v1.1", {"id_str": "1", "screen_name": "ana", "protected": True}),
        ("instagram-scraper", {"id": "1", "username": "ana", "private": True, "followersCount": 5}),
        ("tiktok-profile-scraper", {"id": "1", "uniqueId": "ana", "privateAccount": True}),
        ("threads-scraper", {"pk": "1", "username": "ana", "text_post_app_is_private": True, "full_name": "A"}),
    ],
)
def test_private_accounts_are_flagged(tmp_path: Path, format_name: str, item: dict[str, object]) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [item])

    [profile] = profiles_of(parse(path, format_name))

    assert "private_account" in normalize(profile).quality_flags


@pytest.mark.parametrize(
    ("item", "state"),
    [
        ({"id": "1", "username": "ana", "suspended": True}, "suspended"),
        ({"id": "1", "username": "ana", "is_deleted": True}, "deleted"),
        ({"id": "1", "username": "ana", "isDeleted": True}, "deleted"),
        ({"id": "1", "username": "ana", "deactivated": True}, "deactivated"),
    ],
)
def test_unavailable_account_markers_are_quarantined(tmp_path: Path, item: dict[str, object], state: str) -> None:
    path = write_jsonl(tmp_path / "users.jsonl", [item, x_user("2", "ben")])

    records = parse(path, "x-api-v2")

    [(_, rejection)] = rejections_of(records)
    assert rejection.kind == "account_unavailable"
    assert state in rejection.reason
    assert [profile.handle for profile in profiles_of(records)] == ["ben"]


def test_suspended_error_bodies_are_quarantined(tmp_path: Path) -> None:
    body = {
        "errors": [
            {
                "value": "gone_user",
                "detail": "User has been suspended: [gone_user].",
                "title": "Forbidden",
                "resource_type": "user",
                "parameter": "usernames",
                "resource_id": "gone_user",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
        "data": [x_user("2", "ben")],
    }
    path = tmp_path / "lookup.json"
    path.write_text(json.dumps(body), encoding="utf-8")

    records = parse(path)

    [(_, rejection)] = rejections_of(records)
    assert rejection.kind == "api_error"
    assert "suspended" in rejection.reason


def test_deleted_scraper_items_are_quarantined(tmp_path: Path) -> None:
    items = [
        {"inputUrl": "https://www.instagram.com/gone", "error": "not_found", "errorDescription": "Page not found"},
        {"id": "7", "username": "kept", "followersCount": 10},
    ]
    path = write_jsonl(tmp_path / "profiles.jsonl", items)

    records = parse(path)

    assert {record.format for record in records} == {"instagram-scraper"}
    [(_, rejection)] = rejections_of(records)
    assert rejection.kind == "api_error"
    assert "not_found" in rejection.reason
