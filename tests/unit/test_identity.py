"""Identity resolution on facts alone: true merges, near-misses and conflicts."""

from __future__ import annotations

import uuid

import pytest

from sxe.identity import profile_facts, resolve
from sxe.identity.facts import IdentityFacts, name_key_of
from sxe.models import Platform

X, THREADS, TIKTOK = Platform.X, Platform.THREADS, Platform.TIKTOK


def facts(
    platform: Platform,
    handle: str,
    name: str | None = None,
    bio: str | None = None,
    website: str | None = None,
    url: str | None = None,
) -> IdentityFacts:
    return profile_facts(uuid.uuid4(), platform, handle, name, bio, website, url)


def same_person(a: IdentityFacts, b: IdentityFacts, *others: IdentityFacts) -> bool:
    people = resolve([a, b, *others]).people
    return any(a.profile_id in group and b.profile_id in group for group in people)


def test_same_own_domain_merges() -> None:
    a = facts(X, "mara_b", website="marabakes.example")
    b = facts(THREADS, "sourdough.mara", bio="Sourdough every Sunday marabakes.example")

    assert same_person(a, b)


def test_same_link_in_bio_page_merges() -> None:
    a = facts(X, "rina_lifts", website="linktr.ee", url="https://linktr.ee/RinaLifts")
    b = facts(TIKTOK, "coach.rina", bio="Programs: linktr.ee/rinalifts")

    assert same_person(a, b)


def test_distinctive_handle_merges() -> None:
    assert same_person(facts(X, "priya_codes"), facts(TIKTOK, "priya_codes"))


def test_bio_cross_link_merges() -> None:
    a = facts(X, "dj_kofi", bio="Also on TikTok @kofimixes")
    b = facts(TIKTOK, "kofimixes")

    assert same_person(a, b)


def test_instagram_cross_link_names_threads_account() -> None:
    a = facts(TIKTOK, "lena_paints", bio="IG: lena.art")
    b = facts(THREADS, "lena.art")

    assert same_person(a, b)


def test_profile_url_in_bio_merges() -> None:
    a = facts(THREADS, "ana_r", bio="more videos: tiktok.com/@anarecipes")
    b = facts(TIKTOK, "anarecipes")

    assert same_person(a, b)


def test_full_name_with_short_handle_merges() -> None:
    a = facts(X, "anna", name="Anna Kowalski")
    b = facts(TIKTOK, "anna", name="Anna Kowalski 🌿")

    assert same_person(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (facts(X, "anna", name="Anna"), facts(TIKTOK, "anna", name="Anna")),
        (facts(X, "jo_writes", name="Sam Lee"), facts(TIKTOK, "sam.draws", name="Sam Lee")),
        (facts(X, "mila_fit", website="linktr.ee"), facts(TIKTOK, "zed_games", website="linktr.ee")),
        (facts(X, "bo_trades", website="gmail.com"), facts(THREADS, "cat_yoga", bio="contact at gmail.com")),
        (facts(X, "lou_vlogs", website="youtube.com"), facts(TIKTOK, "kim_vlogs", website="youtube.com")),
        (facts(X, "devnotes", bio="Writing node.js tips"), facts(THREADS, "jsdaily", bio="Daily node.js")),
        (facts(X, "theo_runs", bio="Founder @shipyard_hq"), facts(THREADS, "shipyard_hq")),
    ],
    ids=[
        "one-word-name-and-short-handle",
        "full-name-alone",
        "shared-link-hub-domain",
        "mail-domain",
        "video-site-domain",
        "framework-name-in-bio",
        "plain-mention-without-platform",
    ],
)
def test_weak_signals_stay_apart(a: IdentityFacts, b: IdentityFacts) -> None:
    assert not same_person(a, b)


def test_same_platform_profiles_never_merge() -> None:
    founder = facts(X, "devon_builds", name="Devon Okafor", website="shipyard.example")
    company = facts(X, "shipyard_hq", name="Shipyard Labs", website="shipyard.example")

    assert not same_person(founder, company)


def test_domain_shared_on_one_platform_needs_second_signal() -> None:
    founder = facts(X, "devon_builds", name="Devon Okafor", website="shipyard.example")
    company = facts(X, "shipyard_hq", name="Shipyard Labs", website="shipyard.example")
    company_threads = facts(THREADS, "shipyard.team", name="Shipyard Labs", website="shipyard.example")

    people = resolve([founder, company, company_threads]).people

    assert {company.profile_id, company_threads.profile_id} in [set(group) for group in people]
    assert frozenset({founder.profile_id}) in people


def test_conflicting_link_is_rejected_with_reason() -> None:
    x_main = facts(X, "kai_fitcoach", name="Kai Moana")
    x_old = facts(X, "kai.old", bio="Moved! TikTok: @kai_fitcoach")
    tiktok = facts(TIKTOK, "kai_fitcoach", name="Kai Moana")

    resolution = resolve([x_main, x_old, tiktok])

    rejected = [link for link in resolution.links if link.state == "rejected"]
    assert len(rejected) == 1
    assert rejected[0].reason == "the person would hold two x profiles"
    assert sum(1 for group in resolution.people if len(group) == 2) == 1


def test_resolution_ignores_input_order() -> None:
    profiles = [
        facts(X, "mara_bakes", website="marabakes.example"),
        facts(THREADS, "mara_bakes"),
        facts(TIKTOK, "mara.bakes", bio="X: @mara_bakes"),
        facts(X, "other_baker", name="Mara Lindqvist"),
    ]

    forward = resolve(profiles).people
    backward = resolve(list(reversed(profiles))).people

    assert forward == backward


def test_links_record_each_signal() -> None:
    a = facts(X, "mara_bakes", name="Mara Lindqvist", website="marabakes.example")
    b = facts(THREADS, "mara_bakes", name="Mara Lindqvist 🍞")

    [link] = resolve([a, b]).links

    assert {signal.kind for signal in link.signals} == {"same_handle", "same_display_name"}
    assert link.confidence == pytest.approx(1 - 0.15 * 0.5)
    assert link.state == "active"


def test_name_key_drops_titles_accents_emoji() -> None:
    assert name_key_of("Rina Álvarez | Strength Coach 💪") == "rina alvarez"
    assert name_key_of("Lucía ✈️") == "lucia"
    assert name_key_of("🍞") is None


def test_default_handles_are_no_evidence() -> None:
    assert not same_person(facts(X, "user8812345"), facts(TIKTOK, "user8812345"))


@pytest.mark.parametrize("reverse_ids", [False, True])
def test_equal_links_break_ties_stably(reverse_ids: bool) -> None:
    ids = sorted(uuid.uuid4() for _ in range(3))
    if reverse_ids:
        ids.reverse()
    threads = profile_facts(
        ids[0], THREADS, "anika_grant3813", "Anika Grant", None, None, identity_key="handle:anika_grant3813"
    )
    # The same person exported twice from X, once through each API: equally strong links that conflict.
    older = profile_facts(ids[1], X, "anika_grant3813", "Anika Grant", None, None, identity_key="id:3000009338")
    newer = profile_facts(
        ids[2], X, "anika_grant3813", "Anika Grant", None, None, identity_key="id:1400000000000340033"
    )

    people = resolve([threads, older, newer]).people

    assert frozenset({threads.profile_id, newer.profile_id}) in people
    assert frozenset({older.profile_id}) in people
