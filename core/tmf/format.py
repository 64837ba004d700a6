"""Pure helpers for the TMF representation: date-times, merge patch, `fields=`, filters.

Nothing here touches the database or a request, so every rule of TMF-CONVENTIONS.md that
is about the *shape* of a document is tested once, in isolation.
"""

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.utils.dateparse import parse_datetime

_MISSING = object()


def tmf_datetime(value: dt.datetime | None) -> str | None:
    """A date-time as the API speaks it: UTC, milliseconds, `Z` (`2026-11-25T02:00:00.000Z`)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_tmf_datetime(text: str) -> dt.datetime:
    """Read an ISO 8601 date-time; `Z` or an offset is honoured, a naive one is taken as UTC.

    Raises ValueError with the rule when the text is not a date-time.
    """
    if not isinstance(text, str):
        raise ValueError("date-time must be a string in ISO 8601 form, e.g. 2026-11-25T08:00:00Z")
    candidate = text.strip()
    if candidate.endswith(("z", "Z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = parse_datetime(candidate)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"“{text}” is not an ISO 8601 date-time (e.g. 2026-11-25T08:00:00.000Z)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def millisecond_window(value: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) interval of stored times that render as `value` (ms precision)."""
    start = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return start, start + dt.timedelta(milliseconds=1)


def time_period(start: dt.datetime | None, end: dt.datetime | None) -> dict | None:
    """A TMF TimePeriod, or None when neither end is known."""
    if start is None and end is None:
        return None
    period = {}
    if start is not None:
        period["startDateTime"] = tmf_datetime(start)
    if end is not None:
        period["endDateTime"] = tmf_datetime(end)
    return period


def without_nulls(value):
    """Drop keys whose value is None, recursively: the API omits what it does not know.

    TMF schemas type attributes as string/object/array, never null, so an absent
    attribute is written by leaving it out.
    """
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def merge_patch(target, patch):
    """Apply a JSON Merge Patch (RFC 7386) and return the new document.

    Objects merge key by key, `null` removes a key, anything else (arrays included)
    replaces the target's value.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_fields(raw: str | None) -> list[str] | None:
    """The attribute names of `fields=a,b.c`; None when no projection was asked for."""
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",")]
    names = [name for name in names if name]
    return names or None


def project(document: Mapping, fields: Iterable[str], *, keep: Iterable[str] = ()) -> dict:
    """Only the requested attributes (dotted paths select inside objects) plus `keep`.

    On a collection the caller keeps `id` and `href`; on one resource exactly the fields.
    """
    result: dict = {}
    for path in [*keep, *fields]:
        _project_path(document, path.split("."), result)
    return result


def _project_path(source, parts: list[str], into: dict) -> None:
    if not isinstance(source, Mapping) or parts[0] not in source:
        return
    head, rest = parts[0], parts[1:]
    value = source[head]
    if not rest:
        into[head] = value
        return
    if isinstance(value, Mapping):
        _project_path(value, rest, into.setdefault(head, {}))
    elif isinstance(value, list):
        items = into.get(head)
        if not isinstance(items, list):
            items = [{} for _ in value]
            into[head] = items
        for item, target in zip(value, items, strict=False):
            if isinstance(target, dict):
                _project_path(item, rest, target)


def as_query_text(value) -> str:
    """How a value reads in a query string: JSON literals for booleans, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float):
        return format(value, "f") if isinstance(value, Decimal) else json.dumps(value)
    if value is None:
        return "null"
    return str(value)


def values_at(document, path: str) -> list:
    """Every value at a dotted path; arrays along the way fan out (`category.id`)."""
    current = [document]
    for part in path.split("."):
        following = []
        for node in current:
            if isinstance(node, list):
                following.extend(
                    item[part] for item in node if isinstance(item, Mapping) and part in item
                )
            elif isinstance(node, Mapping) and part in node:
                following.append(node[part])
        current = following
    flat = []
    for value in current:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def document_matches(document, path: str, wanted: Iterable[str]) -> bool:
    """Whether the value at `path`, as the server writes it, equals one of `wanted`."""
    accepted = set(wanted)
    return any(
        not isinstance(value, dict | list) and as_query_text(value) in accepted
        for value in values_at(document, path)
    )


def contains_nul(value) -> bool:
    """Whether any text (key or value) holds U+0000, which PostgreSQL cannot store."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False
