"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import import_file


def main(event, context=None):
    return import_file(event, context)
