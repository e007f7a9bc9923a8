"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.compliance.functions import retention


def main(event, context=None):
    return retention(event, context)
