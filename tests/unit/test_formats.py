from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sxe.errors import UsageError
from sxe.ingest import ParsedRecord, read_profiles
from sxe.ingest.detect import detect_format
from sxe.ingest.formats import FORMATS, get_format
from sxe.models import Platform, Rejection, SourceProfile
from sxe.normalize import normalize
from sxe.pii import contains_pii

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
EXAMPLES = REPO / "examples"
CONTRACTS = REPO / "contracts" / "ingest"

EXAMPLE_FORMATS = {
    "x-api-v2-followers.json": "x-api-v2",
    "x-api-v1.1-users.jsonl": "x-api-v1.1",
    "threads-profiles.jsonl": "threads-api",
    "tiktok-research-users.json": "tiktok-research-api",
    "tiktok-scraper-videos.json": "tiktok-scraper",
}


def parse_file(path: Path, format_name: str | None = None) -> list[ParsedRecord]:
    return list(read_profiles(path, format_name))


def profiles(records: list[ParsedRecord]) -> list[SourceProfile]:
    return [record.result for record in records if isinstance(record.result, SourceProfile)]


def rejections(records: list[ParsedRecord]) -> list[Rejection]:
    return [record.result for record in records if isinstance(record.result, Rejection)]


def fixture(format_name: str, name: str) -> list[ParsedRecord]:
    records = parse_file(FIXTURES / format_name / name)
    assert {record.format for record in records} == {format_name}
    return records


def validator(format_name: str) -> Draft202012Validator:
    schema = json.loads((CONTRACTS / f"{format_name}.v1.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


# Registry


def test_registry_lists_every_format() -> None:
    assert list(FORMATS) == [
        "x-api-v2",
        "x-api-v1.1",
        "threads-api",
        "threads-scraper",
        "tiktok-research-api",
        "tiktok-scraper",
        "tiktok-profile-scraper",
        "instagram-scraper",
        "csv-followers",
    ]


def test_get_format_unknown_name_lists_known_names() -> None:
    with pytest.raises(UsageError) as error:
        get_format("myspace")

    message = str(error.value)
    assert "'myspace'" in message
    for name in FORMATS:
        assert name in message


@pytest.mark.parametrize("name", list(FORMATS))
def test_format_schema_id_matches_contract(name: str) -> None:
    schema = json.loads((CONTRACTS / f"{name}.v1.schema.json").read_text(encoding="utf-8"))

    assert schema["$id"] == FORMATS[name].schema_id
    assert schema["$id"] == f"https://schemas.sxe.dev/ingest/{name}.v1.json"
    Draft202012Validator.check_schema(schema)


# X API v2


def test_x_v2_envelope_yields_users_and_errors() -> None:
    records = fixture("x-api-v2", "users-lookup.json")

    users = profiles(records)
    assert [user.handle for user in users] == ["TestDev_Alpha", "tiny"]
    assert [rejection.kind for rejection in rejections(records)] == ["api_error", "api_error"]
    assert [record.location.item for record in records] == [0, 1, 2, 3]


def test_x_v2_user_fields_map_to_source_profile() -> None:
    alpha = profiles(fixture("x-api-v2", "users-lookup.json"))[0]

    assert alpha.platform is Platform.X
    assert alpha.platform_user_id == "2244994945"
    assert alpha.display_name == "Alpha Dev"
    assert alpha.bio == "Building things. Reach me at alpha@example.com"
    assert (alpha.followers, alpha.following, alpha.posts, alpha.likes) == (583211, 2048, 3899, 2100)
    assert alpha.website == "https://www.alpha-dev.example/"
    assert alpha.verified is False
    assert alpha.is_private is False
    assert alpha.created_at == "2013-12-14T04:35:55.000Z"
    assert alpha.profile_url == "https://x.com/TestDev_Alpha"


def test_x_v2_not_found_and_suspended_reasons() -> None:
    not_found, suspended = rejections(fixture("x-api-v2", "users-lookup.json"))

    assert not_found.reason.startswith("X API v2 error: resource-not-found (Not Found Error) for user 'nobody_here'")
    assert "Forbidden" in suspended.reason
    assert "suspended" in suspended.reason


def test_x_v2_pinned_tweet_errors_are_skipped() -> None:
    records = fixture("x-api-v2", "users-lookup.json")

    assert all(
        "pinned_tweet_id" not in record.result.reason for record in records if isinstance(record.result, Rejection)
    )
    assert all(record.payload.get("section") != "includes" for record in records)


def test_x_v2_single_data_object() -> None:
    records = fixture("x-api-v2", "user-by-username.json")

    assert [user.handle for user in profiles(records)] == ["TestDev_Alpha"]
    assert records[0].location.item == 0


def test_x_v2_rate_limit_body_is_api_error() -> None:
    [record] = fixture("x-api-v2", "rate-limit.json")

    assert isinstance(record.result, Rejection)
    assert record.result.kind == "api_error"
    assert "Too Many Requests" in record.result.reason
    assert "429" in record.result.reason


def test_x_v2_twarc2_pages_expand_per_line() -> None:
    records = fixture("x-api-v2", "twarc2-followers.jsonl")

    assert [(record.location.line, record.location.item) for record in records] == [(1, 0), (2, 0)]
    assert [user.handle for user in profiles(records)] == ["TestDev_Alpha", "gamma_g"]


def test_x_v2_bare_users_in_crlf_jsonl() -> None:
    records = fixture("x-api-v2", "users.jsonl")

    assert [record.location.line for record in records] == [1, 3]
    assert [record.location.item for record in records] == [None, None]
    assert [user.platform_user_id for user in profiles(records)] == ["2244994945", "5"]


def test_x_v2_empty_twarc2_page_has_no_items(tmp_path: Path) -> None:
    page = {"meta": {"result_count": 0}, "__twarc": {"version": "2.14.0"}}
    path = tmp_path / "empty-page.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")

    assert parse_file(path) == []


def test_x_v2_missing_id_is_missing_identity() -> None:
    result = get_format("x-api-v2").parse({"username": "noid", "name": "No Id"}, None)

    assert isinstance(result, Rejection)
    assert result.kind == "missing_identity"


def test_x_v2_object_count_is_invalid_shape() -> None:
    item = {"id": "1", "username": "u", "public_metrics": {"followers_count": {"value": 3}}}

    result = get_format("x-api-v2").parse(item, None)

    assert isinstance(result, Rejection)
    assert result.kind == "invalid_shape"
    assert "public_metrics.followers_count" in result.reason
    assert "object" in result.reason


def test_x_v2_verified_type_used_when_verified_missing() -> None:
    result = get_format("x-api-v2").parse({"id": "1", "username": "u", "verified_type": "business"}, None)

    assert isinstance(result, SourceProfile)
    assert result.verified is True


def test_x_v2_tco_url_used_without_entities() -> None:
    result = get_format("x-api-v2").parse({"id": "1", "username": "u", "url": "https://t.co/abc"}, None)

    assert isinstance(result, SourceProfile)
    assert result.website == "https://t.co/abc"


# X API v1.1


def test_x_v11_user_fields_map_to_source_profile() -> None:
    [record] = fixture("x-api-v1.1", "users-show.json")
    user = record.result

    assert isinstance(user, SourceProfile)
    assert user.platform_user_id == "6253282"
    assert user.handle == "omega_api"
    assert (user.followers, user.following, user.posts, user.likes) == (6133636, 12, 3656, 31)
    assert user.website == "https://developer.omega.example"
    assert user.verified is True
    assert user.created_at == "Wed May 23 06:01:13 +0000 2007"
    assert user.language is None


def test_x_v11_lookup_array_and_followers_page() -> None:
    lookup = fixture("x-api-v1.1", "users-lookup.json")
    page = fixture("x-api-v1.1", "followers-list.json")

    assert [record.location.index for record in lookup] == [0, 1]
    assert profiles(lookup)[1].website is None
    assert profiles(lookup)[1].language == "fr"
    assert [user.handle for user in profiles(page)] == ["omega_api"]
    assert page[0].location.item == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("error-not-found.json", "code 50 (user not found)"),
        ("error-suspended.json", "code 63 (user suspended)"),
        ("error-rate-limit.json", "code 88 (rate limit exceeded)"),
    ],
)
def test_x_v11_error_bodies_are_api_errors(name: str, expected: str) -> None:
    [record] = fixture("x-api-v1.1", name)

    assert isinstance(record.result, Rejection)
    assert record.result.kind == "api_error"
    assert expected in record.result.reason


def test_x_v11_numeric_id_used_without_id_str() -> None:
    result = get_format("x-api-v1.1").parse({"id": 12, "screen_name": "twelve"}, None)

    assert isinstance(result, SourceProfile)
    assert result.platform_user_id == "12"


def test_x_v11_array_followers_count_is_invalid_shape() -> None:
    result = get_format("x-api-v1.1").parse({"id_str": "1", "screen_name": "u", "followers_count": [1]}, None)

    assert isinstance(result, Rejection)
    assert result.kind == "invalid_shape"
    assert "followers_count" in result.reason


def test_x_v11_boolean_verified_required() -> None:
    result = get_format("x-api-v1.1").parse({"id_str": "1", "screen_name": "u", "verified": "yes"}, None)

    assert isinstance(result, Rejection)
    assert "field verified must be a boolean" in result.reason


# Threads API


def test_threads_me_shape_uses_id_and_threads_biography() -> None:
    [record] = fixture("threads-api", "me.json")
    profile = record.result

    assert isinstance(profile, SourceProfile)
    assert profile.platform is Platform.THREADS
    assert profile.platform_user_id == "1234567890123456"
    assert profile.handle == "threads_dev"
    assert profile.bio == "Hi! call me on +1 212 555 0199"
    assert profile.followers is None


def test_threads_lookup_shape_has_no_id() -> None:
    [record] = fixture("threads-api", "profile-lookup.json")
    profile = record.result

    assert isinstance(profile, SourceProfile)
    assert profile.platform_user_id is None
    assert profile.handle == "lookup_person"
    assert profile.bio == "Plant mom"
    assert profile.followers == 45210
    assert profile.likes == 1200
    assert profile.verified is True


def test_threads_error_body_is_api_error() -> None:
    [record] = fixture("threads-api", "error.json")

    assert isinstance(record.result, Rejection)
    assert record.result.kind == "api_error"
    assert "code 100, subcode 33 (THApiException)" in record.result.reason


def test_threads_without_id_or_handle_is_missing_identity() -> None:
    result = get_format("threads-api").parse({"name": "Nobody", "biography": "hi"}, None)

    assert isinstance(result, Rejection)
    assert result.kind == "missing_identity"


# TikTok Research API


def test_tiktok_research_user_info_uses_added_username() -> None:
    [record] = fixture("tiktok-research-api", "user-info.json")
    profile = record.result

    assert isinstance(profile, SourceProfile)
    assert profile.platform is Platform.TIKTOK
    assert profile.handle == "research_person"
    assert profile.platform_user_id is None
    assert (profile.followers, profile.following, profile.posts, profile.likes) == (1500, 20, 12, 33000)
    assert profile.website == "https://rp.example"
    assert profile.profile_url == "https://www.tiktok.com/@research_person"


def test_tiktok_research_missing_username_is_missing_identity() -> None:
    [record] = fixture("tiktok-research-api", "missing-username.json")

    assert isinstance(record.result, Rejection)
    assert record.result.kind == "missing_identity"
    assert '"username"' in record.result.reason


@pytest.mark.parametrize(
    ("name", "code"), [("rate-limit.json", "rate_limit_exceeded"), ("invalid-params.json", "invalid_params")]
)
def test_tiktok_research_error_codes_are_api_errors(name: str, code: str) -> None:
    [record] = fixture("tiktok-research-api", name)

    assert isinstance(record.result, Rejection)
    assert record.result.kind == "api_error"
    assert code in record.result.reason


def test_tiktok_research_empty_bio_url_is_no_website() -> None:
    item = {"username": "u", "data": {"bio_url": ""}, "error": {"code": "ok", "message": "", "log_id": "1"}}

    result = get_format("tiktok-research-api").parse(item, None)

    assert isinstance(result, SourceProfile)
    assert result.website is None


# TikTok scraper


def test_tiktok_scraper_repeats_author_per_video() -> None:
    records = fixture("tiktok-scraper", "videos.json")
    authors = profiles(records)

    assert [author.handle for author in authors] == ["scraped_creator", "scraped_creator", "old_export"]
    assert authors[0] == authors[1]
    assert records[0].content_hash != records[1].content_hash


def test_tiktok_scraper_author_fields() -> None:
    author = profiles(fixture("tiktok-scraper", "videos.json"))[0]

    assert author.platform_user_id == "6700000000000000001"
    assert author.display_name == "Scraped Creator"
    assert author.bio == "Recipes daily \u2022 biz: sc@example.com"
    assert (author.followers, author.following, author.posts, author.likes) == (52000, 100, 240, 1300000)
    assert author.website == "https://linktr.ee/scraped"
    assert author.location == "GB"
    assert author.is_private is False


def test_tiktok_scraper_string_counts_pass_through() -> None:
    old = profiles(fixture("tiktok-scraper", "videos.json"))[2]

    assert (old.followers, old.following, old.posts, old.likes) == ("317.4K", "1,204", "88", "4.5M")
    assert old.website is None


def test_tiktok_scraper_error_item_is_api_error() -> None:
    records = fixture("tiktok-scraper", "videos.json")

    assert [rejection.kind for rejection in rejections(records)] == ["api_error"]
    assert "not_found" in rejections(records)[0].reason


def test_tiktok_scraper_bio_link_object() -> None:
    item = {"authorMeta": {"id": "1", "name": "u", "bioLink": {"link": "https://shop.example"}}}

    result = get_format("tiktok-scraper").parse(item, None)

    assert isinstance(result, SourceProfile)
    assert result.website == "https://shop.example"


def test_tiktok_scraper_without_author_id_is_missing_identity() -> None:
    result = get_format("tiktok-scraper").parse({"id": "7", "authorMeta": {"name": "u"}}, None)

    assert isinstance(result, Rejection)
    assert result.kind == "missing_identity"


def test_tiktok_scraper_author_meta_string_is_invalid_shape() -> None:
    result = get_format("tiktok-scraper").parse({"id": "7", "authorMeta": "u"}, None)

    assert isinstance(result, Rejection)
    assert result.kind == "invalid_shape"
    assert "authorMeta" in result.reason


# Shared parsing rules


@pytest.mark.parametrize("name", list(FORMATS))
def test_non_object_item_is_invalid_shape(name: str) -> None:
    result = FORMATS[name].parse(["not", "an", "object"], None)

    assert isinstance(result, Rejection)
    assert result.kind == "invalid_shape"
    assert "array" in result.reason


@pytest.mark.parametrize("name", list(FORMATS))
def test_api_error_reason_redacts_contact_points(name: str) -> None:
    rejection = FORMATS[name].api_error("lookup failed for jane@example.com, +1 212 555 0100")

    assert not contains_pii(rejection.reason)
    assert "[email]" in rejection.reason


# Detection


@pytest.mark.parametrize(
    ("format_name", "file_name"),
    [
        ("x-api-v2", "users-lookup.json"),
        ("x-api-v2", "rate-limit.json"),
        ("x-api-v2", "twarc2-followers.jsonl"),
        ("x-api-v2", "users.jsonl"),
        ("x-api-v1.1", "users-show.json"),
        ("x-api-v1.1", "followers-list.json"),
        ("x-api-v1.1", "error-suspended.json"),
        ("threads-api", "me.json"),
        ("threads-api", "profile-lookup.json"),
        ("threads-api", "error.json"),
        ("tiktok-research-api", "user-info.json"),
        ("tiktok-research-api", "invalid-params.json"),
        ("tiktok-scraper", "videos.json"),
    ],
)
def test_detect_format_recognises_fixture(format_name: str, file_name: str) -> None:
    records = parse_file(FIXTURES / format_name / file_name)

    assert {record.format for record in records} == {format_name}


@pytest.mark.parametrize(
    "value",
    [
        {"id": "1", "username": "u", "public_metrics": {}},
        {"id_str": "1", "screen_name": "u"},
        {"id": "1", "username": "u", "threads_biography": ""},
        {"username": "u", "data": {"display_name": "U"}, "error": {"code": "ok", "log_id": "1"}},
        {"authorMeta": {"id": "1"}},
    ],
)
def test_each_value_matches_exactly_one_format(value: dict[str, Any]) -> None:
    matches = [name for name, source_format in FORMATS.items() if source_format.sniff(value)]

    assert len(matches) == 1


def test_detect_format_skips_unrecognised_values() -> None:
    detected = detect_format([{"meta": {}}, {"id_str": "1", "screen_name": "u"}])

    assert detected.name == "x-api-v1.1"


def test_detect_format_mixed_values_are_ambiguous() -> None:
    with pytest.raises(UsageError, match="ambiguous") as error:
        detect_format([{"id_str": "1", "screen_name": "u"}, {"authorMeta": {"id": "1"}}])
    assert "--format" in str(error.value)


def test_detect_format_error_lists_keys_not_values() -> None:
    with pytest.raises(UsageError) as error:
        detect_format([{"contact": "jane@example.com"}])

    message = str(error.value)
    assert "[contact]" in message
    assert "jane@example.com" not in message
    for name in FORMATS:
        assert name in message


def test_detect_format_describes_non_object() -> None:
    with pytest.raises(UsageError, match="JSON string"):
        detect_format(["hello"])


# Examples


def example_records() -> list[ParsedRecord]:
    return [record for name in EXAMPLE_FORMATS for record in parse_file(EXAMPLES / name)]


def test_example_files_are_all_listed() -> None:
    assert sorted(path.name for path in EXAMPLES.iterdir() if path.is_file()) == sorted(EXAMPLE_FORMATS)


@pytest.mark.parametrize(("file_name", "format_name"), list(EXAMPLE_FORMATS.items()))
def test_example_file_detects_and_parses(file_name: str, format_name: str) -> None:
    records = parse_file(EXAMPLES / file_name)

    assert records
    assert {record.format for record in records} == {format_name}
    assert profiles(records)
    assert {rejection.kind for rejection in rejections(records)} <= {"api_error", "unparseable"}


def test_examples_hold_expected_rejections() -> None:
    records = example_records()
    kinds = [
        (Path(record.location.file).name, record.result.kind)
        for record in records
        if isinstance(record.result, Rejection)
    ]

    assert kinds.count(("x-api-v2-followers.json", "api_error")) == 2
    assert ("x-api-v1.1-users.jsonl", "unparseable") in kinds
    assert ("tiktok-scraper-videos.json", "api_error") in kinds


def test_examples_hold_enough_distinct_profiles() -> None:
    keys = {(profile.platform, profile.platform_user_id or profile.handle) for profile in profiles(example_records())}

    assert 20 <= len(keys) <= 40


def test_examples_share_people_across_platforms() -> None:
    handles_by_platform: dict[Platform, set[str]] = {}
    for profile in profiles(example_records()):
        handles_by_platform.setdefault(profile.platform, set()).add(str(profile.handle))

    assert "mara_bakes" in handles_by_platform[Platform.X] & handles_by_platform[Platform.THREADS]
    assert "lucia_travels" in handles_by_platform[Platform.X] & handles_by_platform[Platform.TIKTOK]


@pytest.mark.parametrize(("file_name", "format_name"), list(EXAMPLE_FORMATS.items()))
def test_example_items_validate_against_schema(file_name: str, format_name: str) -> None:
    schema_validator = validator(format_name)
    records = [record for record in parse_file(EXAMPLES / file_name) if record.payload is not None]

    assert records
    for record in records:
        errors = list(schema_validator.iter_errors(record.payload))
        assert errors == [], record.location.describe()


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_fixture_items_validate_against_schema(format_name: str) -> None:
    schema_validator = validator(format_name)
    for path in sorted((FIXTURES / format_name).iterdir()):
        for record in parse_file(path):
            if record.payload is None or (isinstance(record.result, Rejection) and record.result.kind != "api_error"):
                continue
            errors = list(schema_validator.iter_errors(record.payload))
            assert errors == [], record.location.describe()


@pytest.mark.parametrize(
    ("format_name", "item"),
    [
        ("x-api-v2", {"username": "noid"}),
        ("x-api-v2", {"id": "1", "username": "u", "public_metrics": {"followers_count": "many"}}),
        ("x-api-v1.1", {"id_str": "1"}),
        ("threads-api", {"username": "u", "follower_count": -1}),
        ("tiktok-research-api", {"data": {"display_name": "U"}, "error": {"code": "ok"}}),
        ("tiktok-scraper", {"authorMeta": {"name": "u"}}),
        ("tiktok-scraper", {"authorMeta": {"id": "1", "fans": "lots"}}),
    ],
)
def test_schema_rejects_bad_items(format_name: str, item: dict[str, Any]) -> None:
    assert not validator(format_name).is_valid(item)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)
FIELD_NAMES = st.sampled_from(
    [
        "id",
        "id_str",
        "username",
        "screen_name",
        "data",
        "errors",
        "error",
        "authorMeta",
        "public_metrics",
        "entities",
        "title",
        "code",
    ]
)
RECORD_LIKE = st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=6)


@settings(max_examples=200, deadline=None)
@given(item=st.one_of(JSON_VALUES, RECORD_LIKE))
def test_parse_never_raises_on_arbitrary_json(item: Any) -> None:
    for source_format in FORMATS.values():
        for expanded, envelope in source_format.expand(item):
            result = source_format.parse(expanded, envelope)
            assert isinstance(result, (SourceProfile, Rejection))
            if isinstance(result, SourceProfile):
                assert normalize(result).platform is source_format.platform
