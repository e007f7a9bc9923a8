"""The registry of source formats, keyed by the name that `--format` takes."""

from __future__ import annotations

from sxe.errors import UsageError
from sxe.ingest.formats.base import SourceFormat
from sxe.ingest.formats.csv_followers import CsvFollowers
from sxe.ingest.formats.instagram_scraper import InstagramScraper
from sxe.ingest.formats.threads_api import ThreadsApi
from sxe.ingest.formats.threads_scraper import ThreadsScraper
from sxe.ingest.formats.tiktok_profile_scraper import TikTokProfileScraper
from sxe.ingest.formats.tiktok_research_api import TikTokResearchApi
from sxe.ingest.formats.tiktok_scraper import TikTokScraper
from sxe.ingest.formats.x_api_v1_1 import XApiV11
from sxe.ingest.formats.x_api_v2 import XApiV2

# Formats of JSON values, which detection chooses between by sniffing.
JSON_FORMATS: dict[str, SourceFormat] = {
    source_format.name: source_format
    for source_format in (
        XApiV2(),
        XApiV11(),
        ThreadsApi(),
        ThreadsScraper(),
        TikTokResearchApi(),
        TikTokScraper(),
        TikTokProfileScraper(),
        InstagramScraper(),
    )
}

FORMATS: dict[str, SourceFormat] = {**JSON_FORMATS, "csv-followers": CsvFollowers()}


def format_names() -> list[str]:
    """Return the registered format names in registry order."""
    return list(FORMATS)


def get_format(name: str) -> SourceFormat:
    """Return the format registered under `name`, or raise UsageError listing the known names."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise UsageError(f"unknown source format {name!r}; use one of: {known}") from None


__all__ = ["FORMATS", "JSON_FORMATS", "SourceFormat", "format_names", "get_format"]
