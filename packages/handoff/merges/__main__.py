"""DigitalOcean web function handoff/merges: pass the event to the library and return its response."""

from sxe.handoff.api import merges


def main(event, context=None):
    return merges(event, context)
