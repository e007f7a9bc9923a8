"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import normalize_batch


def main(event, context=None):
    return normalize_batch(event, context)
