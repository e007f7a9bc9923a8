"""Identity of profiles whose sources disagree on ids: attach a platform user id to a handle-keyed profile.

Some sources name a profile by handle only, such as the Threads `profile_lookup`
response, while others give the platform user id too, such as Threads `/me`. A
profile is keyed by `id:<user id>` when any record gave an id and by
`handle:<handle>` otherwise, so without this step the two records of one person
would make two profiles.

- A record with an id and a handle attaches the id to the stored profile keyed by
  that handle, unless a profile with that id is already stored.
- A record with a handle only joins the profile on the same platform that has a
  user id and shows that handle: one from the same chunk first, else the stored
  one collected last.

Records that share neither an id nor a handle are never joined. A handle that two
ids of one chunk both claim is left alone, because the chunk cannot tell which
account uses it now.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import psycopg

from sxe.db import sql
from sxe.models import Profile

HandleKey = tuple[str, str]


def attach_ids(conn: psycopg.Connection[Any], profiles: Sequence[Profile]) -> int:
    """Give each stored handle-keyed profile the user id a record of the chunk shows for its handle.

    Re-keys the profile's bio sightings with it. Returns the number of profiles that got an id.
    """
    claims = _unambiguous_claims(profiles)
    if not claims:
        return 0
    rows = [
        {"platform": platform, "handle": handle, "user_id": user_id} for (platform, handle), user_id in claims.items()
    ]
    attached = conn.execute(sql("ingest_attach_user_ids"), {"claims": json.dumps(rows)}).fetchall()
    return len(attached)


def user_ids_for_handles(conn: psycopg.Connection[Any], profiles: Sequence[Profile]) -> dict[HandleKey, str]:
    """Return the user id each handle-only profile of the chunk belongs to, by (platform, lowercase handle)."""
    wanted = {_handle_key(profile) for profile in profiles if not profile.platform_user_id and profile.handle}
    if not wanted:
        return {}
    claims = _unambiguous_claims(profiles)
    found = {key: claims[key] for key in wanted if key in claims}
    missing = sorted(wanted - set(found))
    if missing:
        rows = conn.execute(
            sql("ingest_user_ids_for_handles"),
            {"platforms": [platform for platform, _ in missing], "handles": [handle for _, handle in missing]},
        )
        found.update({(row["platform"], row["handle"]): row["platform_user_id"] for row in rows})
    return found


def _unambiguous_claims(profiles: Sequence[Profile]) -> dict[HandleKey, str]:
    """Return the user id of each (platform, handle) that the chunk's records with ids show, when only one id does."""
    ids: dict[HandleKey, set[str]] = defaultdict(set)
    for profile in profiles:
        if profile.platform_user_id and profile.handle:
            ids[_handle_key(profile)].add(profile.platform_user_id)
    return {key: next(iter(user_ids)) for key, user_ids in ids.items() if len(user_ids) == 1}


def _handle_key(profile: Profile) -> HandleKey:
    return profile.platform.value, (profile.handle or "").lower()
