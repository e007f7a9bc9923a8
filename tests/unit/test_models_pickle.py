"""Records and profiles cross process boundaries by pickle when ingest runs worker processes."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from sxe.ingest import ParsedRecord, store
from sxe.ingest.store import PreparedRecord
from sxe.models import FileDamage, Platform, Profile, RecordLocation, Rejection, SourceProfile, reduce_positionally

PROFILE = Profile(
    platform=Platform.THREADS,
    platform_user_id="17841400000000001",
    handle="mara.bakes",
    display_name="Mara",
    bio="Bread and [phone]",
    followers=12_300,
    following=41,
    posts=310,
    likes=None,
    verified=True,
    website_domain="mara.example",
    language="en",
    bio_has_email=False,
    bio_has_phone=True,
    quality_flags=("count_rounded", "no_avatar"),
)
SOURCE = SourceProfile(
    platform=Platform.TIKTOK,
    platform_user_id="6890000000000000001",
    handle="mara",
    display_name="Mara",
    bio="Bread",
    followers="12.3K",
    following=41,
    posts=310,
    likes="1M",
    verified=False,
    website="https://mara.example",
    language="en",
    location="Lisbon",
    is_private=False,
    created_at="2021-03-04",
    profile_url="https://www.tiktok.com/@mara",
)


LOCATION = RecordLocation(file="x-api-v2-followers.json", line=None, index=3, item=17)
REJECTION = Rejection(kind="api_error", reason="the record is an X API error body")
DAMAGE = FileDamage(kind="unparseable", reason="file is a damaged gzip file", offset=8192)
RECORD = ParsedRecord(LOCATION, "x-api-v2", {"id": "1", "username": "mara"}, "ab" * 32, SOURCE, "cd" * 32)


@pytest.mark.parametrize(
    "value",
    [PROFILE, SOURCE, LOCATION, REJECTION, DAMAGE, RECORD],
    ids=["Profile", "SourceProfile", "RecordLocation", "Rejection", "FileDamage", "ParsedRecord"],
)
def test_every_field_survives_pickle(value: object) -> None:
    loaded = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    assert loaded == value


def test_prepared_record_survives_pickle() -> None:
    prepared = PreparedRecord(PROFILE, {"handle": "mara.bakes"}, '{"bio":"[phone]"}', [{"kind": "phone"}])

    assert pickle.loads(pickle.dumps(prepared)) == prepared


def test_prepared_record_repr_hides_contacts() -> None:
    sightings = [{"kind": "email", "value": "mara@example.com"}]
    prepared = PreparedRecord(PROFILE, {"handle": "mara.bakes"}, None, sightings, b'{"bio":"mara@example.com"}')

    text = repr(prepared)

    assert "mara@example.com" not in text
    assert "unredacted_json=<26 bytes>" in text
    assert pickle.loads(pickle.dumps(prepared)) == prepared


def test_without_payload_keeps_other_fields() -> None:
    bare = RECORD.without_payload()

    assert bare.payload is None
    assert bare == ParsedRecord(LOCATION, "x-api-v2", None, "ab" * 32, SOURCE, "cd" * 32)


def test_payloadless_record_needs_prepared_work() -> None:
    with pytest.raises(ValueError, match="x-api-v2-followers.json.* is missing both its payload and its prepared work"):
        store._prepare_here([(0, RECORD.without_payload(), SOURCE)], {})


@dataclass(frozen=True, slots=True)
class OneField:
    value: int

    __reduce__ = reduce_positionally


def test_one_field_dataclass_survives_pickle() -> None:
    assert pickle.loads(pickle.dumps(OneField(3))) == OneField(3)
