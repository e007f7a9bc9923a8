"""DigitalOcean web function handoff/erasures: pass the event to the library and return its response."""

from sxe.handoff.api import erasures


def main(event, context=None):
    return erasures(event, context)
