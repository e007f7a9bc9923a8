"""DigitalOcean Functions handler: a scheduled handoff, or a consumer's bundle request over the web."""

from sxe.handoff.api import bundle


def main(event, context=None):
    return bundle(event, context)
