"""CSV follower-list exports, with a header mapping for the common column spellings.

Each data row is one profile. Column names are matched after lowercasing and
dropping spaces, dots, dashes and underscores, so "Followers Count",
"followers_count" and twarc-csv's "public_metrics.followers_count" all map to
`followers`. `--map column=field` maps a column the table does not know, or
overrides a known one. Its column matches a header column spelled the same, else one
that differs only in case and surrounding whitespace. The fields are those of
`FIELD_ALIASES`.

The platform of a row comes from its `platform` column, else from the host of its
profile URL, else from the header (twarc-csv's `public_metrics.*` columns mean X),
else from the `platform` given to the format. A file whose header has no column
for an id or handle, or no way to give any row a platform, is rejected as a whole by
`check_header` before a row is stored. A row whose platform is still unknown is an
`invalid_shape` rejection naming every fix it needs, and so is a row parsed without
that check whose header maps no column to an id or handle. Empty cells read as
missing values, and counts stay strings for normalization ("12.3K", "1,234").
"""

from __future__ import annotations

import re
from typing import Any

from sxe.errors import UsageError
from sxe.ingest.formats.base import Envelope, SourceFormat, url_platform
from sxe.models import Platform, Rejection, SourceProfile
from sxe.pii import redact_text

CSV_FORMAT_NAME = "csv-followers"

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "platform": ("platform", "network", "site"),
    "id": ("id", "user_id", "userid", "author_id", "twitter_id", "account_id", "platform_user_id", "pk", "id_str"),
    "handle": ("handle", "username", "screen_name", "user_name", "unique_id", "uniqueid", "login", "account"),
    "display_name": ("display_name", "name", "full_name", "fullname", "nickname", "nick_name"),
    "bio": ("bio", "description", "biography", "signature", "about"),
    "followers": (
        "followers",
        "followers_count",
        "follower_count",
        "public_metrics.followers_count",
        "fans",
        "followers_total",
    ),
    "following": (
        "following",
        "following_count",
        "friends_count",
        "follows_count",
        "public_metrics.following_count",
    ),
    "posts": (
        "posts",
        "posts_count",
        "post_count",
        "tweet_count",
        "tweets",
        "statuses_count",
        "public_metrics.tweet_count",
        "media_count",
        "video_count",
        "videos",
    ),
    "likes": ("likes", "like_count", "likes_count", "public_metrics.like_count", "heart_count", "hearts"),
    "verified": ("verified", "is_verified", "blue_verified"),
    "website": ("website", "url", "external_url", "link", "bio_link", "homepage"),
    "location": ("location", "region", "country"),
    "is_private": ("is_private", "private", "protected", "private_account"),
    "created_at": ("created_at", "joined", "join_date"),
    "profile_url": ("profile_url", "profile_link", "profile"),
    "language": ("language", "lang"),
}
FIELDS = tuple(FIELD_ALIASES)
# The fields of a row that can name its platform.
PLATFORM_FIELDS = frozenset({"platform", "profile_url"})
# Header columns a rejection reason lists, so a wide export keeps its reason short.
SHOWN_COLUMNS = 12
# Header columns a header error lists. It is printed once, so it can list more.
SHOWN_COLUMNS_IN_ERRORS = 40

PLATFORM_NAMES = {
    "x": Platform.X,
    "twitter": Platform.X,
    "threads": Platform.THREADS,
    "tiktok": Platform.TIKTOK,
    "instagram": Platform.INSTAGRAM,
    "ig": Platform.INSTAGRAM,
}
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})

_SEPARATORS = re.compile(r"[\s._\-]+")


def column_key(column: str) -> str:
    """Return the matching key of a column name: lowercase, without spaces, dots, dashes or underscores."""
    return _SEPARATORS.sub("", column.strip().lower())


ALIAS_FIELDS = {column_key(alias): field for field, aliases in FIELD_ALIASES.items() for alias in aliases}


def map_key(column: str) -> str:
    """Return the key by which a `--map` column matches a header column: the name stripped and case-folded."""
    return column.strip().casefold()


def parse_column_map(pairs: list[str]) -> dict[str, str]:
    """Parse `--map column=field` values; raise UsageError naming a malformed pair, unknown field or remapped column."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, separator, field = pair.partition("=")
        if not separator or not column.strip() or not field.strip():
            raise UsageError(f"--map value {pair!r} is invalid; write it as COLUMN=FIELD, such as 'Fans=followers'")
        if field.strip() not in FIELD_ALIASES:
            raise UsageError(f"--map field {field.strip()!r} is unknown; use one of: {', '.join(FIELDS)}")
        earlier = mapping.setdefault(column.strip(), field.strip())
        if earlier != field.strip():
            raise UsageError(
                f"--map maps column {column.strip()!r} to both {earlier!r} and {field.strip()!r}; "
                "keep one COLUMN=FIELD pair per column"
            )
    return mapping


class CsvFollowers(SourceFormat):
    """The CSV format, configured with column overrides and a default platform."""

    name = CSV_FORMAT_NAME
    label = "CSV follower list"
    platform = Platform.X  # NOTE: only a placeholder; every row resolves its own platform.

    def __init__(self, column_map: dict[str, str] | None = None, *, platform: Platform | None = None) -> None:
        self.column_map = dict(column_map or {})
        self.default_platform = platform
        self._columns: dict[str, str] | None = None
        self._mapped_header: list[str] = []
        self._header_platform: Platform | None = None

    def sniff(self, value: Any) -> bool:
        # CSV is chosen by the file layout, never by sniffing decoded JSON values.
        return False

    def check_header(self, header: list[str], *, source: str) -> None:
        """Raise UsageError when no row under `header` can become a profile; `source` names the file.

        The header is rejected when it is one column that contains another separator,
        when a `--map` column matches no header column or several, or when it has no id
        or handle column. It is also rejected when no row can get a platform from it:
        it has no platform, profile URL or twarc-csv columns, and the format has no
        default platform. The error names what is missing, lists the header's columns
        and gives the fix. Under a header that passes, `parse_object` rejects bad rows one by one.
        """
        separator = _other_separator(header)
        if separator is not None:
            raise UsageError(f"{self.label} {source} has a header that {_separator_problem(separator)}")
        columns = set(self._map_columns(header, source=source).values())
        no_identity = columns.isdisjoint({"id", "handle"})
        no_platform = columns.isdisjoint(PLATFORM_FIELDS) and self._header_platform is None
        no_platform = no_platform and self.default_platform is None
        if no_identity or no_platform:
            raise UsageError(self._header_problem(header, source, no_identity=no_identity, no_platform=no_platform))

    def _header_problem(self, header: list[str], source: str, *, no_identity: bool, no_platform: bool) -> str:
        """Return the `check_header` error: the columns missing, the header's columns and each fix."""
        missing: list[str] = []
        fixes: list[str] = []
        if no_identity:
            missing.append("user id or handle column")
            fixes.append(
                "Map the column that contains the handle with --map 'Their Column=handle', "
                "or the one that contains the user id with --map 'Their Column=id'."
            )
        if no_platform:
            missing.append("platform or profile URL column")
            fixes.append(
                "Pass --platform NAME when every row is of one platform, or map the column that names it "
                "with --map 'Their Column=platform' or --map 'Their Column=profile_url'."
            )
        columns = _column_list(header, SHOWN_COLUMNS_IN_ERRORS)
        return f"{self.label} {source} has no {' and no '.join(missing)}; its columns are: {columns}. {' '.join(fixes)}"

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        columns = self._map_columns(list(item))
        values = {field: _cell(item.get(column)) for column, field in columns.items()}

        platform = self._platform(values)
        identity_column = not {"id", "handle"}.isdisjoint(columns.values())
        if platform is None or not identity_column:
            reason = self._shape_reason(list(item), no_platform=platform is None, no_identity=not identity_column)
            return Rejection(kind="invalid_shape", reason=reason)
        if not values.get("id") and not values.get("handle"):
            return self.missing_identity("user id or handle (columns such as id and username)")

        return SourceProfile(
            platform=platform,
            platform_user_id=values.get("id"),
            handle=values.get("handle"),
            display_name=values.get("display_name"),
            bio=values.get("bio"),
            followers=values.get("followers"),
            following=values.get("following"),
            posts=values.get("posts"),
            likes=values.get("likes"),
            verified=_flag("verified", values.get("verified")),
            website=values.get("website"),
            language=values.get("language"),
            location=values.get("location"),
            is_private=_flag("is_private", values.get("is_private")),
            created_at=values.get("created_at"),
            profile_url=values.get("profile_url"),
        )

    def _shape_reason(self, header: list[str], *, no_platform: bool, no_identity: bool) -> str:
        """Return the reason of a row whose platform is unknown or whose header maps no id or handle column.

        Every fix the row needs is named at once. The header is shown redacted, because a
        file without a header row reads its first row as one.
        """
        separator = _other_separator(header)
        if separator is not None:
            return f"{self.label} header {_separator_problem(separator)}"
        problems: list[str] = []
        fixes: list[str] = []
        if no_platform:
            problems.append("row names no platform")
            fixes.append("add a platform column, a profile URL column, or pass --platform NAME")
        if no_identity:
            columns = _column_list(header, SHOWN_COLUMNS)
            problems.append(f"header has no user id or handle column (columns: {columns})")
            fixes.append("map one with --map 'COLUMN=handle' or --map 'COLUMN=id'")
        return f"{self.label} {' and '.join(problems)}; {', and '.join(fixes)}"

    def _map_columns(self, header: list[str], *, source: str = "the file") -> dict[str, str]:
        """Map each header column to a field once per header: overrides first, then the alias table.

        The mapping is kept for the next row with the same header, so one instance can
        parse rows of several files, such as the registered one in a long-lived worker.
        Raises UsageError, as `resolve_column_map` does, when a `--map` column matches no
        header column or several. `check_header` raises it before the first row is parsed.
        """
        if self._columns is not None and self._mapped_header == header:
            return self._columns
        overrides = resolve_column_map(self.column_map, header, source)
        self._mapped_header = header
        self._header_platform = None
        columns: dict[str, str] = {}
        taken: set[str] = set(overrides.values())
        for column in header:
            if column in overrides:
                columns[column] = overrides[column]
                continue
            field = ALIAS_FIELDS.get(column_key(column))
            if field is not None and field not in taken:
                columns[column] = field
                taken.add(field)
        if any(column_key(column).startswith("publicmetrics") for column in header):
            self._header_platform = Platform.X
        self._columns = columns
        return columns

    def _platform(self, values: dict[str, str | None]) -> Platform | None:
        named = values.get("platform")
        if named:
            return PLATFORM_NAMES.get(named.strip().lower())
        return url_platform(values.get("profile_url")) or self._header_platform or self.default_platform


def resolve_column_map(column_map: dict[str, str], header: list[str], source: str) -> dict[str, str]:
    """Return `column_map` keyed by the header columns its columns name, as `find_mapped_column` finds them.

    Raises UsageError when two `--map` columns name one header column with two fields.
    """
    resolved: dict[str, str] = {}
    named_as: dict[str, str] = {}
    for column, field in column_map.items():
        found = find_mapped_column(column, header, source)
        if resolved.setdefault(found, field) != field:
            raise UsageError(
                f"--map columns {named_as[found]!r} and {column!r} both name the column {found!r} of {source}, "
                f"as {resolved[found]!r} and {field!r}; keep one COLUMN=FIELD pair for it"
            )
        named_as[found] = column
    return resolved


def find_mapped_column(column: str, header: list[str], source: str) -> str:
    """Return the header column that the `--map` column `column` names.

    The column spelled exactly the same wins. Otherwise the one column that differs only
    in case and surrounding whitespace is taken. Raises UsageError naming `column` and
    listing the header when no column matches, or several match and none exactly.
    """
    if column in header:
        return column
    matches = [name for name in header if map_key(name) == map_key(column)]
    if len(matches) == 1:
        return matches[0]

    columns = _column_list(header, SHOWN_COLUMNS_IN_ERRORS)
    if not matches:
        raise UsageError(
            f"--map column {column!r} is not in the CSV header of {source}, also with case and surrounding spaces "
            f"ignored; the header's columns are: {columns}"
        )
    raise UsageError(
        f"--map column {column!r} matches {len(matches)} columns of the CSV header of {source} "
        f"({_column_list(matches, SHOWN_COLUMNS_IN_ERRORS)}) when case and surrounding spaces are ignored; "
        f"write it exactly as the header spells one of them. The header's columns are: {columns}"
    )


def _column_list(columns: list[str], limit: int) -> str:
    """Return up to `limit` column names, redacted because a file without a header row reads its first row as one."""
    listed = ", ".join(redact_text(column).text for column in columns[:limit])
    hidden = len(columns) - limit
    return f"{listed} and {hidden} more" if hidden > 0 else listed


def _separator_problem(separator: str) -> str:
    return (
        f"is one column that contains {separator!r}, so the file is separated by {separator!r}, not by commas; "
        "save it as CSV with commas, or as a .tsv file with tabs"
    )


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(field: str, value: str | None) -> bool | None:
    """Read a yes/no cell; an unknown word reads as None, because a CSV cell has no type to reject."""
    if value is None:
        return None
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _other_separator(header: list[str]) -> str | None:
    """Return the separator a one-column header holds, such as the ';' of a spreadsheet saved in many locales."""
    if len(header) != 1:
        return None
    for separator in (";", "\t", "|"):
        if separator in header[0]:
            return separator
    return None
