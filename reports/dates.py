"""Dates as people write them in quote collections, and the periods a report counts by.

A date keeps the precision it was written with: "2024" is a year, "Dec 2024" a month,
"3 December 2024" a day. A date falls in a period only if all of it does, so "2024" is in the
year 2024 but in no month of it. Numeric day/month orders such as 03/12/2024 are ambiguous
and are not guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

FREQUENCIES = ("month", "quarter", "year")
AUTO = "auto"

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_YEAR = re.compile(r"(\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?:[t ].+)?")  # lower-cased text
_SLASH_DAY = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)\.?,? (\d{4})")
_MONTH_DAY_YEAR = re.compile(r"([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})")
_MONTH_YEAR = re.compile(r"([a-z]+)\.?,? (\d{4})")
_QUARTER = re.compile(r"(\d{4})-?q([1-4])")


class DateFormatError(ValueError):
    """A date that is not in one of the accepted forms."""


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year. `index` is the month (1-12), quarter (1-4) or 1."""

    freq: str
    year: int
    index: int

    @property
    def label(self) -> str:
        if self.freq == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.freq == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    @property
    def start(self) -> dt.date:
        month = {"month": self.index, "quarter": 3 * self.index - 2}.get(self.freq, 1)
        return dt.date(self.year, month, 1)

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        months = {"month": 1, "quarter": 3, "year": 12}[self.freq]
        carry, month = divmod(self.start.month - 1 + months, 12)
        return dt.date(self.year + carry, month + 1, 1)

    @property
    def middle(self) -> dt.date:
        """The period's midpoint, where a chart puts its value."""
        return self.start + (self.end - self.start) / 2

    def overlaps(self, other: Period) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, date: PartialDate) -> bool:
        return period_of(date, self.freq) == self


def _month(name: str) -> int:
    try:
        return _MONTHS[name]
    except KeyError:
        raise DateFormatError(f"unknown month {name!r}") from None


def _checked(year: int, month: int | None = None, day: int | None = None) -> PartialDate:
    if month is not None and not 1 <= month <= 12:
        raise DateFormatError(f"month {month} out of range")
    if day is not None:
        assert month is not None
        try:
            dt.date(year, month, day)
        except ValueError as exc:
            raise DateFormatError(str(exc)) from None
    return PartialDate(year, month, day)


def parse_date(value: Any) -> PartialDate | None:
    """The date in `value`, or None when it is missing (None or blank).

    Accepts ISO 8601 days and timestamps (2024-12-03, 2024-12-03T10:00:00Z), 2024/12/03,
    "3 December 2024", "3 Dec. 2024", "December 3, 2024", months ("2024-12", "Dec 2024",
    "December 2024"), years ("2024"), and date objects (from Parquet). Raises
    `DateFormatError` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, dt.date):
        return PartialDate(value.year, value.month, value.day)
    return _parse_text(str(value))


@lru_cache(maxsize=1 << 16)  # quote collections repeat their dates; PartialDate is immutable
def _parse_text(value: str) -> PartialDate | None:
    text = " ".join(value.split()).lower()
    if not text:
        return None
    if match := _YEAR.fullmatch(text):
        return _checked(int(match[1]))
    if match := _YEAR_MONTH.fullmatch(text):
        return _checked(int(match[1]), int(match[2]))
    if _ISO_DAY.fullmatch(text):
        try:
            moment = dt.datetime.fromisoformat(text.upper())
        except ValueError as exc:
            raise DateFormatError(str(exc)) from None
        return PartialDate(moment.year, moment.month, moment.day)
    if match := _SLASH_DAY.fullmatch(text):
        return _checked(int(match[1]), int(match[2]), int(match[3]))
    if match := _DAY_MONTH_YEAR.fullmatch(text):
        return _checked(int(match[3]), _month(match[2]), int(match[1]))
    if match := _MONTH_DAY_YEAR.fullmatch(text):
        return _checked(int(match[3]), _month(match[1]), int(match[2]))
    if match := _MONTH_YEAR.fullmatch(text):
        return _checked(int(match[2]), _month(match[1]))
    raise DateFormatError(f"{value!r} is not a date in a known form")


@lru_cache(maxsize=1 << 16)
def period_of(date: PartialDate, freq: str) -> Period | None:
    """The period of `freq` that holds all of `date`, or None if the date is too coarse."""
    if freq == "year":
        return Period("year", date.year, 1)
    if date.month is None:
        return None
    if freq == "quarter":
        return Period("quarter", date.year, (date.month - 1) // 3 + 1)
    return Period("month", date.year, date.month)


def choose_frequency(dates: list[PartialDate]) -> str:
    """Months for up to three years of dates, quarters up to ten years, years beyond."""
    if not dates:
        return "month"
    months = [d.year * 12 + (d.month or 1) for d in dates]
    span = max(months) - min(months)
    if span <= 36:
        return "month"
    return "quarter" if span <= 120 else "year"


def parse_period(text: str) -> Period:
    """A period named as a year ("2021"), a quarter ("2021-Q3") or a month ("2021-06",
    "Jun 2021"). Raises `DateFormatError` otherwise."""
    cleaned = " ".join(text.split()).lower()
    if match := _QUARTER.fullmatch(cleaned):
        return Period("quarter", int(match[1]), int(match[2]))
    date = parse_date(cleaned)
    if date is None or date.day is not None:
        raise DateFormatError(f"{text!r} is not a year, quarter or month")
    if date.month is None:
        return Period("year", date.year, 1)
    return Period("month", date.year, date.month)


def readable_month(period: Period) -> str:
    """'Dec 2024' for a month, the label otherwise: for chart ticks and headings."""
    if period.freq == "month":
        return f"{_MONTH_ABBR[period.index - 1]} {period.year}"
    return period.label
