"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.compliance.functions import erase


def main(event, context=None):
    return erase(event, context)
