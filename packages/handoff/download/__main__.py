"""DigitalOcean web function handoff/download: pass the event to the library and return its response."""

from sxe.handoff.api import download


def main(event, context=None):
    return download(event, context)
