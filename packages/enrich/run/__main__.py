"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import enrich


def main(event, context=None):
    return enrich(event, context)
