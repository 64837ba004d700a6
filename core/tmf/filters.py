"""Attribute filters of TMF collections (`?lifecycleStatus=Launched&category.id=3`).

The rule (TMF-CONVENTIONS.md) is an exact match on the value *as the server returns it*,
so the reference behaviour is `core.tmf.format.document_matches` applied to the
representation. For the attributes a viewset lists in `filter_fields` with a `Filter`,
the same match is done in the database instead (fast path); the contract tests check
that both agree. Attributes without a database filter (references, derived values) are
still filtered, on the representation, so no spec attribute is silently ignored.
Repeating a parameter (`?status=active&status=suspended`) matches any of the values.
"""

import datetime as dt

from django.db.models import Q, QuerySet

from .format import millisecond_window, parse_tmf_datetime
from .serializers import parse_pk


class Filter:
    """A database filter for one attribute; `q(value)` is the condition for one value."""

    description = ""

    def __init__(self, lookup: str, *, description: str = ""):
        self.lookup = lookup
        self.description = description or self.description

    def q(self, value: str) -> Q:
        return Q(**{self.lookup: value})

    def apply(self, queryset: QuerySet, values: list[str]) -> QuerySet:
        condition = Q(pk__in=[])
        for value in values:
            condition |= self.q(value)
        return queryset.filter(condition)


class ExactFilter(Filter):
    """A string attribute stored as returned."""


class BooleanFilter(Filter):
    """`true` / `false`, as JSON writes them; anything else matches nothing."""

    def q(self, value: str) -> Q:
        if value not in ("true", "false"):
            return Q(pk__in=[])
        return Q(**{self.lookup: value == "true"})


class DateTimeFilter(Filter):
    """A date-time given in its `Z` form (milliseconds): matches the stored instant's ms."""

    def q(self, value: str) -> Q:
        try:
            instant = parse_tmf_datetime(value)
        except ValueError:
            return Q(pk__in=[])
        start, end = millisecond_window(instant.astimezone(dt.UTC))
        return Q(**{f"{self.lookup}__gte": start, f"{self.lookup}__lt": end})


class IdFilter(Filter):
    """A resource id (the primary key as a string)."""

    def q(self, value: str) -> Q:
        pk = parse_pk(value)
        if pk is None or str(pk) != value:
            return Q(pk__in=[])
        return Q(**{self.lookup: pk})
