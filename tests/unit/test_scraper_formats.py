"""Threads and TikTok scraper exports, Instagram profile scraper exports and CSV follower lists."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sxe.errors import UsageError
from sxe.ingest import ParsedRecord, read_profiles
from sxe.ingest.formats.csv_followers import CsvFollowers, parse_column_map
from sxe.models import Platform, Rejection, SourceProfile
from sxe.normalize import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def parse(path: Path | io.BytesIO, format_name: str | None = None, **options: object) -> list[ParsedRecord]:
    return list(read_profiles(path, format_name, **options))  # type: ignore[arg-type]


def profiles_of(records: list[ParsedRecord]) -> list[SourceProfile]:
    return [record.result for record in records if isinstance(record.result, SourceProfile)]


def rejections_of(records: list[ParsedRecord]) -> list[Rejection]:
    return [record.result for record in records if isinstance(record.result, Rejection)]


# Threads scraper


def test_threads_snake_case_export() -> None:
    records = parse(FIXTURES / "threads-scraper" / "snake-case.json")

    loom, harbour = profiles_of(records)
    assert {record.format for record in records} == {"threads-scraper"}
    assert loom.platform is Platform.THREADS
    assert loom.platform_user_id == "63100000000000001"
    assert loom.display_name == "Loom &amp; Lathe Studio"
    assert loom.website == "https://loomlathe.example/shop"
    assert harbour.platform_user_id == "63100000000000002"
    assert harbour.followers == "1.2M"
    assert harbour.is_private is True
    assert harbour.verified is True


def test_threads_snake_case_error_item_is_api_error() -> None:
    [rejection] = rejections_of(parse(FIXTURES / "threads-scraper" / "snake-case.json"))

    assert rejection.kind == "api_error"
    assert "not_found" in rejection.reason


def test_threads_camel_case_export() -> None:
    coach, lantern = profiles_of(parse(FIXTURES / "threads-scraper" / "camel-case.jsonl"))

    assert coach.handle == "trailmix.coach"
    assert coach.followers == "12.3K"
    assert coach.website == "https://linktr.ee/trailmix"
    assert coach.profile_url == "https://www.threads.net/@trailmix.coach"
    assert lantern.bio == "Stationery for slow mornings"
    assert normalize(lantern).followers == 1_234


def test_threads_obfuscated_email_is_redacted() -> None:
    loom = profiles_of(parse(FIXTURES / "threads-scraper" / "snake-case.json"))[0]

    normalized = normalize(loom)

    assert normalized.bio == "Handmade furniture \u2022 commissions open\n[email]"
    assert normalized.bio_has_email
    assert normalized.display_name == "Loom & Lathe Studio"


def test_threads_api_shape_is_not_a_scraper_export() -> None:
    records = parse(FIXTURES / "threads-api" / "me.json")

    assert {record.format for record in records} == {"threads-api"}


# TikTok profile scraper


def test_tiktok_flat_export() -> None:
    records = parse(FIXTURES / "tiktok-profile-scraper" / "flat.json")

    salt, default = profiles_of(records)
    assert {record.format for record in records} == {"tiktok-profile-scraper"}
    assert salt.handle == "saltandcrumb"
    assert salt.display_name == "Salt & Crumb \U0001f35e"
    assert salt.website == "https://saltcrumb.example"
    assert normalize(salt).followers == 317_400
    assert normalize(salt).likes == 9_100_000
    assert default.likes == 0
    assert default.is_private is True
    assert "default_handle" in normalize(default).quality_flags


def test_tiktok_nested_user_info_export() -> None:
    [felix] = profiles_of(parse(FIXTURES / "tiktok-profile-scraper" / "user-info.jsonl"))

    normalized = normalize(felix)
    assert felix.platform_user_id == "6800000000000000103"
    assert normalized.followers == 88_100
    assert normalized.posts == 310
    assert normalized.bio == "Phone screen repair \u2022 call [phone]"
    assert normalized.website_domain == "fixitfelix.example"


def test_tiktok_flat_error_item_is_api_error() -> None:
    [rejection] = rejections_of(parse(FIXTURES / "tiktok-profile-scraper" / "flat.json"))

    assert rejection.kind == "api_error"
    assert "banned" in rejection.reason


# Instagram profile scraper


def test_instagram_profile_export() -> None:
    records = parse(FIXTURES / "instagram-scraper" / "profiles.json")

    verde, nadia = profiles_of(records)
    assert {record.format for record in records} == {"instagram-scraper"}
    assert verde.platform is Platform.INSTAGRAM
    assert verde.platform_user_id == "5500000001"
    assert verde.following == 312
    assert verde.posts == 512
    assert verde.website == "https://verdeceramics.example/"
    assert normalize(verde).bio == "Small-batch stoneware \u2022 Lisbon\nWholesale: [phone]"
    assert nadia.is_private is True


def test_instagram_error_items_are_api_errors() -> None:
    rejections = rejections_of(parse(FIXTURES / "instagram-scraper" / "profiles.json"))

    assert [rejection.kind for rejection in rejections] == ["api_error", "api_error"]
    assert "not_found" in rejections[0].reason
    assert "no_items" in rejections[1].reason


def test_instagram_items_are_not_x_users() -> None:
    item = b'{"id": "1", "username": "ig_person", "fullName": "IG", "followersCount": 3}\n'

    records = parse(io.BytesIO(item * 2), name="profiles.jsonl")

    assert {record.format for record in records} == {"instagram-scraper"}


# CSV follower lists


def test_twarc_csv_columns_map_to_fields() -> None:
    records = parse(FIXTURES / "csv-followers" / "twarc-followers.csv")

    harbour, dana, reader = profiles_of(records)
    assert {record.format for record in records} == {"csv-followers"}
    assert harbour.platform is Platform.X
    assert harbour.platform_user_id == "1500000000000000001"
    assert harbour.handle == "harbourlight_co"
    assert harbour.followers == "4210"
    assert harbour.following == "380"
    assert harbour.posts == "1502"
    assert harbour.website == "https://t.co/abc123"
    assert dana.is_private is True
    assert normalize(reader).followers == 1_200_000
    assert normalize(reader).following == 1_234
    assert reader.verified is True


def test_csv_platform_comes_from_column_or_url() -> None:
    records = parse(FIXTURES / "csv-followers" / "mixed-export.csv")

    glow, atelier = profiles_of(records)
    assert glow.platform is Platform.TIKTOK
    assert glow.display_name == "Glow Garden"
    assert normalize(glow).bio == "Houseplants & care tips \U0001f33f"
    assert atelier.platform is Platform.INSTAGRAM
    [rejection] = rejections_of(records)
    assert rejection.kind == "invalid_shape"
    assert "--platform" in rejection.reason


def test_csv_default_platform_applies_to_rows_without_one() -> None:
    records = parse(FIXTURES / "csv-followers" / "mixed-export.csv", platform=Platform.THREADS)

    assert [profile.platform for profile in profiles_of(records)] == [
        Platform.TIKTOK,
        Platform.INSTAGRAM,
        Platform.THREADS,
    ]


def test_csv_map_option_maps_unknown_columns() -> None:
    data = b"Account Handle,Fan Total,Network\nana,12.3K,tiktok\n"

    [record] = parse(
        io.BytesIO(data), name="fans.csv", column_map={"Account Handle": "handle", "Fan Total": "followers"}
    )

    assert isinstance(record.result, SourceProfile)
    assert record.result.handle == "ana"
    assert normalize(record.result).followers == 12_300


def test_csv_map_option_overrides_known_columns() -> None:
    data = b"id,name,nickname,platform\n1,Legal Name,Nick,x\n"

    [profile] = profiles_of(parse(io.BytesIO(data), name="f.csv", column_map={"nickname": "display_name"}))

    assert profile.display_name == "Nick"


def test_csv_format_maps_each_header_anew() -> None:
    csv_format = CsvFollowers()
    twarc = {"id": "7", "username": "ana", "public_metrics.followers_count": "12"}
    export = {"Platform": "tiktok", "Handle": "bo", "Followers": "3"}

    first = csv_format.parse_object(twarc, None)
    second = csv_format.parse_object(export, None)

    assert isinstance(first, SourceProfile)
    assert (first.platform, first.handle, first.followers) == (Platform.X, "ana", "12")
    assert isinstance(second, SourceProfile)
    assert (second.platform, second.handle, second.followers) == (Platform.TIKTOK, "bo", "3")


def test_csv_reason_names_every_missing_column() -> None:
    csv_format = CsvFollowers()

    rejection = csv_format.parse_object({"Account Handle": "ana", "Fan Total": "12"}, None)

    assert isinstance(rejection, Rejection)
    assert rejection.kind == "invalid_shape"
    assert rejection.reason == (
        "CSV follower list row names no platform and header has no user id or handle column "
        "(columns: Account Handle, Fan Total); add a platform column, a profile URL column, or pass "
        "--platform NAME, and map one with --map 'COLUMN=handle' or --map 'COLUMN=id'"
    )


def test_csv_reason_redacts_a_header_row_of_data() -> None:
    csv_format = CsvFollowers(platform=Platform.TIKTOK)

    rejection = csv_format.parse_object({"ana@example.com": "bo@example.com", "Ana": "Bo"}, None)

    assert isinstance(rejection, Rejection)
    assert "(columns: [email], Ana)" in rejection.reason
    assert "example.com" not in rejection.reason
    assert "no platform" not in rejection.reason


def test_csv_map_unknown_column_rejected() -> None:
    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(b"id,username\n1,ana\n"), name="f.csv", column_map={"Fans": "followers"})

    assert "'Fans'" in str(error.value)
    assert "id, username" in str(error.value)


def test_csv_map_ignores_case() -> None:
    data = b"Handle,FANS,Platform\nana,12,tiktok\n"

    [profile] = profiles_of(parse(io.BytesIO(data), name="f.csv", column_map=parse_column_map(["fans=followers"])))

    assert profile.followers == "12"


def test_csv_map_ignores_surrounding_whitespace() -> None:
    csv_format = CsvFollowers(parse_column_map([" fans =followers"]))
    row = {"handle": "ana", " Fans ": "12", "platform": "x"}

    csv_format.check_header(list(row), source="f.csv")
    profile = csv_format.parse_object(row, None)

    assert isinstance(profile, SourceProfile)
    assert profile.followers == "12"


def test_csv_map_prefers_exact_spelling() -> None:
    data = b"Handle,Fans,FANS,Platform\nana,12,34,tiktok\n"

    [profile] = profiles_of(parse(io.BytesIO(data), name="f.csv", column_map={"FANS": "followers"}))

    assert profile.followers == "34"


def test_csv_map_matching_two_columns_rejected() -> None:
    data = b"Handle,Fans,FANS,Platform\nana,12,34,tiktok\n"

    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(data), name="f.csv", column_map={"fans": "followers"})

    message = str(error.value)
    assert "--map column 'fans' matches 2 columns" in message
    assert "(Fans, FANS)" in message
    assert "The header's columns are: Handle, Fans, FANS, Platform" in message


def test_csv_map_missing_column_lists_header() -> None:
    data = b"Handle,Followers,Platform\nana,12,tiktok\n"

    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(data), name="f.csv", column_map={"fans": "followers"})

    message = str(error.value)
    assert "--map column 'fans' is not in the CSV header of f.csv" in message
    assert "the header's columns are: Handle, Followers, Platform" in message


def test_csv_map_two_names_for_one_column_rejected() -> None:
    data = b"Handle,Fans,Platform\nana,12,tiktok\n"

    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(data), name="f.csv", column_map={"Fans": "followers", "fans": "likes"})

    assert "--map columns 'Fans' and 'fans' both name the column 'Fans' of f.csv" in str(error.value)


def test_parse_column_map_rejects_column_mapped_twice() -> None:
    with pytest.raises(UsageError) as error:
        parse_column_map(["Fans=followers", "Fans=likes"])

    assert "'Fans' to both 'followers' and 'likes'" in str(error.value)


def test_csv_header_without_handle_column_stops_reading() -> None:
    data = b"Creator,Fans\nana,12\nbo,3\n"

    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(data), name="fans.csv", platform=Platform.TIKTOK)

    message = str(error.value)
    assert message.startswith("CSV follower list fans.csv has no user id or handle column;")
    assert "its columns are: Creator, Fans." in message
    assert "--map 'Their Column=handle'" in message
    assert "--platform" not in message


def test_csv_header_without_platform_column_stops_reading() -> None:
    data = b"username,Fans\nana,12\n"

    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(data), name="fans.csv")

    message = str(error.value)
    assert "has no platform or profile URL column;" in message
    assert "its columns are: username, Fans." in message
    assert "Pass --platform NAME" in message
    assert "Their Column=handle" not in message


def test_csv_header_missing_both_names_both() -> None:
    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(b"Creator,Fans\nana,12\n"), name="fans.csv")

    message = str(error.value)
    assert "has no user id or handle column and no platform or profile URL column;" in message
    assert "--map 'Their Column=handle'" in message
    assert "--platform NAME" in message


def test_csv_header_error_redacts_emails() -> None:
    with pytest.raises(UsageError) as error:
        parse(io.BytesIO(b"ana@example.com,Ana\nbo@example.com,Bo\n"), name="f.csv", platform=Platform.X)

    assert "its columns are: [email], Ana." in str(error.value)
    assert "example.com" not in str(error.value)


@pytest.mark.parametrize(
    ("header", "options"),
    [
        (b"id,name", {"platform": Platform.X}),
        (b"Creator,Network", {"column_map": {"Creator": "handle"}}),
        (b"username,Profile URL", {}),
        (b"username,public_metrics.followers_count", {}),
    ],
)
def test_csv_header_with_required_columns_passes(header: bytes, options: dict[str, object]) -> None:
    [record] = parse(io.BytesIO(header + b"\n7,x\n"), name="f.csv", **options)

    assert record.format == "csv-followers"


def test_csv_right_header_keeps_quarantining_bad_rows() -> None:
    data = b"platform,handle,followers\ntiktok,ana,12\nmyspace,bo,3\ntiktok,,4\ntiktok,cy,5\n"

    records = parse(io.BytesIO(data), name="f.csv")

    assert [profile.handle for profile in profiles_of(records)] == ["ana", "cy"]
    no_platform, no_handle = rejections_of(records)
    assert no_platform.kind == "invalid_shape"
    assert "row names no platform" in no_platform.reason
    assert no_handle.kind == "missing_identity"


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [(["Fans=followers"], {"Fans": "followers"}), (["Full Name = display_name"], {"Full Name": "display_name"})],
)
def test_parse_column_map_accepts_pairs(pairs: list[str], expected: dict[str, str]) -> None:
    assert parse_column_map(pairs) == expected


@pytest.mark.parametrize(("pair", "hint"), [("Fans", "COLUMN=FIELD"), ("Fans=fanbase", "followers")])
def test_parse_column_map_rejects_bad_pairs(pair: str, hint: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_column_map([pair])

    assert hint in str(error.value)


def test_csv_row_with_extra_cells_is_quarantined() -> None:
    data = b"id,username,platform\n1,ana,x\n2,ben,x,surplus\n3,cy,x\n"

    records = parse(io.BytesIO(data), name="f.csv")

    assert [profile.handle for profile in profiles_of(records)] == ["ana", "cy"]
    [rejection] = rejections_of(records)
    assert rejection.kind == "unparseable"
    assert "4 cells" in rejection.reason


def test_csv_format_option_reads_unnamed_stream_as_csv() -> None:
    records = parse(io.BytesIO(b"id,username,platform\n1,ana,x\n"), "csv-followers", name="upload")

    assert [profile.handle for profile in profiles_of(records)] == ["ana"]
