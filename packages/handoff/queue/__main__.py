"""DigitalOcean web function handoff/queue: pass the event to the library and return its response."""

from sxe.handoff.api import queue


def main(event, context=None):
    return queue(event, context)
