"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import enrich_sweep


def main(event, context=None):
    return enrich_sweep(event, context)
