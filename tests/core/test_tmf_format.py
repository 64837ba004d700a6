"""The representation rules of core.tmf.format, in isolation."""

import datetime as dt

import pytest

from core.tmf.events import QueryError, parse_query, query_matches, resource_key
from core.tmf.format import (
    document_matches,
    merge_patch,
    millisecond_window,
    parse_fields,
    parse_tmf_datetime,
    project,
    tmf_datetime,
    without_nulls,
)


def test_date_times_are_utc_with_milliseconds_and_z():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert (
        tmf_datetime(dt.datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=shanghai))
        == "2026-11-25T02:00:00.123Z"
    )
    assert tmf_datetime(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T02:00:00.000Z",
        "2026-11-25T02:00:00Z",
        "2026-11-25T10:00:00+08:00",
        "2026-11-25T02:00:00",
    ],
)
def test_date_times_are_read_with_z_offsets_or_as_utc(text):
    assert parse_tmf_datetime(text) == dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T00:00:00Z", "", 12])
def test_a_bad_date_time_is_refused_with_the_rule(text):
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_tmf_datetime(text)


def test_the_millisecond_window_holds_every_instant_rendered_the_same():
    instant = dt.datetime(2026, 11, 25, 2, 0, 0, 123999, tzinfo=dt.UTC)
    start, end = millisecond_window(instant)
    assert tmf_datetime(start) == tmf_datetime(instant) == "2026-11-25T02:00:00.123Z"
    assert tmf_datetime(end) == "2026-11-25T02:00:00.124Z"


def test_merge_patch_follows_rfc_7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "list": [3], "new": {"x": 1}}
    assert merge_patch(target, patch) == {
        "a": "z",
        "c": {"d": "e"},
        "list": [3],
        "new": {"x": 1},
    }
    assert merge_patch(target, {"a": None}) == {"c": {"d": "e", "f": "g"}, "list": [1, 2]}


def test_nulls_are_left_out_of_documents():
    assert without_nulls({"a": None, "b": {"c": None, "d": 1}, "e": [None, {"f": None}]}) == {
        "b": {"d": 1},
        "e": [{}],
    }


def test_fields_projection_on_items_and_resources():
    document = {"id": "1", "href": "h", "name": "n", "validFor": {"startDateTime": "s", "x": 1}}
    assert parse_fields("name, validFor.startDateTime,") == ["name", "validFor.startDateTime"]
    assert parse_fields("") is None
    assert project(document, ["name"], keep=("id", "href")) == {"id": "1", "href": "h", "name": "n"}
    assert project(document, ["validFor.startDateTime"]) == {"validFor": {"startDateTime": "s"}}
    assert project(document, ["unknown"]) == {}


def test_filters_match_values_as_written_including_dotted_paths_into_arrays():
    document = {
        "isBundle": False,
        "price": {"value": 0.05, "unit": "CNY"},
        "category": [{"id": "3"}, {"id": "7"}],
        "lastUpdate": "2026-11-25T02:00:00.000Z",
    }
    assert document_matches(document, "isBundle", ["false"])
    assert not document_matches(document, "isBundle", ["False"])
    assert document_matches(document, "price.value", ["0.05"])
    assert document_matches(document, "category.id", ["7"])
    assert not document_matches(document, "category.id", ["9"])
    assert document_matches(document, "lastUpdate", ["2026-11-25T02:00:00.000Z"])
    assert not document_matches(document, "missing", [""])
    assert not document_matches(document, "price", ["CNY"])


def test_subscription_queries():
    envelope = {
        "eventId": "e1",
        "eventType": "CustomerStateChangeEvent",
        "event": {"customer": {"id": "5", "status": "active", "characteristic": [{"value": "A"}]}},
    }
    assert query_matches("", envelope)
    assert query_matches(None, envelope)
    assert query_matches("eventType=CustomerStateChangeEvent", envelope)
    assert query_matches("?eventType = CustomerCreateEvent,CustomerStateChangeEvent", envelope)
    assert not query_matches("eventType=CustomerCreateEvent", envelope)
    assert query_matches("eventType=CustomerStateChangeEvent&status=active", envelope)
    assert query_matches("event.customer.status=active", envelope)
    assert query_matches("characteristic.value=A", envelope)
    assert not query_matches("eventType=CustomerStateChangeEvent&status=closed", envelope)
    with pytest.raises(QueryError):
        parse_query("eventType")
    assert not query_matches("nonsense", envelope)


@pytest.mark.parametrize(
    ("event_type", "key"),
    [
        ("ProductOfferingStateChangeEvent", "productOffering"),
        ("ProductOfferingPriceAttributeValueChangeEvent", "productOfferingPrice"),
        ("CustomerCreateEvent", "customer"),
        ("ProductOrderInformationRequiredEvent", "productOrder"),
        ("TroubleTicketStatusChangeEvent", "troubleTicket"),
        ("CatalogBatchEvent", "catalog"),
    ],
)
def test_the_payload_key_comes_from_the_event_name(event_type, key):
    assert resource_key(event_type) == key
