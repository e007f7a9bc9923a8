"""Reduce a profile's website link to a domain and classify link hubs and shorteners."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Link-in-bio services: the domain names the service, not the person.
LINK_HUB_HOSTS = frozenset(
    {
        "linktr.ee",
        "beacons.ai",
        "lnk.bio",
        "linkin.bio",
        "bio.link",
        "campsite.bio",
        "carrd.co",
        "hoo.be",
        "koji.to",
        "later.com",
        "linkfly.to",
        "msha.ke",
        "snipfeed.co",
        "solo.to",
        "stan.store",
        "tap.bio",
        "taplink.cc",
        "withkoji.com",
    }
)

# URL shorteners: the domain hides the real destination.
SHORTENER_HOSTS = frozenset(
    {
        "t.co",
        "bit.ly",
        "tinyurl.com",
        "goo.gl",
        "ow.ly",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "is.gd",
        "shorturl.at",
        "tiny.cc",
        "rb.gy",
    }
)

# Hosts that serve the platforms' pictures and files (profile pictures, video covers),
# matched with their subdomains. A link to them never names a person's own website.
MEDIA_HOSTS = frozenset(
    {
        "twimg.com",
        "licdn.com",
        "googleusercontent.com",
        "gravatar.com",
        "ggpht.com",
        "ytimg.com",
        "fbsbx.com",
        "pinimg.com",
        "sndcdn.com",
        "redditmedia.com",
        "redd.it",
    }
)
# CDN host labels that appear under several top-level domains and with regional
# suffixes: scontent-lax3-1.cdninstagram.com, *.fbcdn.net, p16-sign-va.tiktokcdn-us.com.
_MEDIA_HOST_LABEL = re.compile(r"^(?:cdninstagram|fbcdn|tiktokcdn(?:-[a-z0-9]+)?)$")

CONTACT_SCHEMES = frozenset({"mailto", "tel", "sms"})

_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,63}")


@dataclass(frozen=True, slots=True)
class Website:
    """The domain of a website link, or None, and the quality flags it raised."""

    domain: str | None
    flags: tuple[str, ...] = ()


def website_domain(url: str | None) -> Website:
    """Reduce a URL to its lowercase host without a leading `www.`.

    Subdomains are kept ("shop.example.com"), because telling a registrable domain
    from a subdomain needs the public suffix list. Internationalized host names are
    returned in their ASCII form ("xn--..."). Flags:

    - `website_is_link_hub`: a link-in-bio service such as linktr.ee (domain kept);
    - `website_is_shortener`: a shortener such as t.co or bit.ly (domain kept);
    - `website_is_contact_link`: a mailto:, tel: or sms: link (domain None, so no
      address reaches Tier 1);
    - `invalid_website`: text with no usable host name (domain None).
    """
    if url is None or not url.strip():
        return Website(domain=None)

    text = url.strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme in CONTACT_SCHEMES:
        return Website(domain=None, flags=("website_is_contact_link",))

    host = _host(text)
    if host is None:
        return Website(domain=None, flags=("invalid_website",))
    return Website(domain=host, flags=_host_flags(host))


def is_media_host(host: str) -> bool:
    """Return True when `host` serves a platform's pictures or files (a CDN), never a person's site."""
    labels = host.lower().rstrip(".").split(".")
    if any(_MEDIA_HOST_LABEL.match(label) for label in labels[:-1]):
        return True
    return any(".".join(labels[start:]) in MEDIA_HOSTS for start in range(len(labels) - 1))


def _host(text: str) -> str | None:
    if "://" not in text:
        text = f"http://{text}"
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if host is None:
        return None

    host = host.rstrip(".").removeprefix("www.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if _HOST.fullmatch(host) else None


def _host_flags(host: str) -> tuple[str, ...]:
    if host in LINK_HUB_HOSTS:
        return ("website_is_link_hub",)
    if host in SHORTENER_HOSTS:
        return ("website_is_shortener",)
    return ()
