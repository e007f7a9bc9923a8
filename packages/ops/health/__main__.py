"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import health_check


def main(event, context=None):
    return health_check(event, context)
