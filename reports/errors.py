"""The one exception a report raises for input it cannot use."""


class ReportError(Exception):
    """The input or an option cannot make a report; the message says what to do instead."""
