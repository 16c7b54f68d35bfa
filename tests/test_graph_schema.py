"""The CSDL extract, its generator and the body checker built on it (tests/graph_schema/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.graph_schema import extract as generator
from tests.graph_schema import validate

# A CSDL written by us in the shape of Microsoft's: one namespace with alias, inheritance,
# an abstract base, a flags enum, a navigation property we inline and one we do not, and an
# unrelated type that must not be extracted.
SMALL_CSDL = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="freeBusyStatus">
        <Member Name="free" Value="0" /><Member Name="busy" Value="1" />
      </EnumType>
      <EnumType Name="weekdays" IsFlags="true">
        <Member Name="monday" Value="1" /><Member Name="tuesday" Value="2" />
      </EnumType>
      <EnumType Name="unused"><Member Name="x" Value="0" /></EnumType>
      <ComplexType Name="dateTimeTimeZone">
        <Property Name="dateTime" Type="Edm.String" Nullable="false" />
        <Property Name="timeZone" Type="Edm.String" />
      </ComplexType>
      <ComplexType Name="unusedComplex"><Property Name="a" Type="Edm.String" /></ComplexType>
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityType Name="singleValueLegacyExtendedProperty" BaseType="graph.entity">
        <Property Name="value" Type="Edm.String" />
      </EntityType>
      <EntityType Name="attachment" BaseType="graph.entity" />
      <EntityType Name="event" BaseType="graph.entity" OpenType="true">
        <Property Name="start" Type="graph.dateTimeTimeZone" />
        <Property Name="showAs" Type="graph.freeBusyStatus" />
        <Property Name="days" Type="graph.weekdays" />
        <Property Name="categories" Type="Collection(Edm.String)" Nullable="false" />
        <NavigationProperty Name="attachments" Type="Collection(graph.attachment)" />
        <NavigationProperty Name="singleValueExtendedProperties"
          Type="Collection(graph.singleValueLegacyExtendedProperty)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="calendar" BaseType="graph.entity">
        <Property Name="name" Type="Edm.String" />
      </EntityType>
      <Action Name="permanentDelete" IsBound="true">
        <Parameter Name="bindingParameter" Type="graph.event" />
      </Action>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""


def test_generator_extracts_the_closure_of_event_and_calendar(tmp_path: Path) -> None:
    csdl = tmp_path / "v1.0-Prod.csdl"
    csdl.write_text(SMALL_CSDL, encoding="utf-8")
    out = tmp_path / "extract.json"
    assert generator.main(["--csdl", str(csdl), "--commit", "abc123", "--out", str(out)]) == 0
    data = json.loads(out.read_text("utf-8"))
    assert data["source"]["commit"] == "abc123"
    assert data["source"]["path"] == "schemas/v1.0-Prod.csdl"
    assert set(data["types"]) == {
        "calendar",
        "dateTimeTimeZone",
        "entity",
        "event",
        "singleValueLegacyExtendedProperty",
    }
    assert set(data["enums"]) == {"freeBusyStatus", "weekdays"}
    assert data["enums"]["weekdays"]["flags"] is True
    event = data["types"]["event"]
    assert event["base"] == "entity"
    assert event["open"] is True
    assert event["bound_actions"] == ["permanentDelete"]
    assert event["properties"]["categories"] == {
        "type": "Edm.String",
        "collection": True,
        "nullable": False,
    }
    assert event["properties"]["attachments"]["inline"] is False
    assert data["types"]["dateTimeTimeZone"]["properties"]["dateTime"]["nullable"] is False
    assert data["types"]["dateTimeTimeZone"]["properties"]["timeZone"]["nullable"] is True


def test_generator_needs_the_source_commit(tmp_path: Path) -> None:
    csdl = tmp_path / "x.csdl"
    csdl.write_text(SMALL_CSDL, encoding="utf-8")
    with pytest.raises(SystemExit):
        generator.main(["--csdl", str(csdl), "--out", str(tmp_path / "o.json")])


def test_committed_extract_records_its_source_and_has_our_types() -> None:
    data = validate.extract()
    source = data["source"]
    assert source["repository"] == "microsoftgraph/msgraph-metadata"
    assert len(source["commit"]) == 40
    for name in ("event", "calendar", "dateTimeTimeZone", "itemBody", "location"):
        assert name in data["types"], name
    for name in ("importance", "sensitivity", "freeBusyStatus", "bodyType", "eventType"):
        assert name in data["enums"], name
    assert "permanentDelete" in data["types"]["event"]["bound_actions"]
    # The properties the target writes, and their types, as Microsoft publishes them.
    props = validate.properties("event")
    expected = {
        "subject": "Edm.String",
        "body": "itemBody",
        "start": "dateTimeTimeZone",
        "end": "dateTimeTimeZone",
        "isAllDay": "Edm.Boolean",
        "showAs": "freeBusyStatus",
        "categories": "Edm.String",
        "location": "location",
        "transactionId": "Edm.String",
        "isReminderOn": "Edm.Boolean",
        "reminderMinutesBeforeStart": "Edm.Int32",
        "singleValueExtendedProperties": "singleValueLegacyExtendedProperty",
        "changeKey": "Edm.String",  # inherited from outlookItem
        "id": "Edm.String",  # inherited from entity
    }
    assert {k: props[k]["type"] for k in expected} == expected


GOOD_EVENT: dict[str, Any] = {
    "@odata.etag": 'W/"abc"',
    "id": "AAMkAD=",
    "subject": "Planleggingsdag",
    "body": {"contentType": "text", "content": "x"},
    "start": {"dateTime": "2030-01-02T00:00:00.0000000", "timeZone": "W. Europe Standard Time"},
    "end": {"dateTime": "2030-01-03T00:00:00", "timeZone": None},
    "isAllDay": True,
    "showAs": "Busy",  # enum values compare case-insensitively
    "categories": ["Ledelse"],
    "location": {"displayName": "Aula", "address": {"city": "Bergen"}},
    "isReminderOn": False,
    "reminderMinutesBeforeStart": 15,
    "createdDateTime": "2030-01-01T10:00:00.1234567Z",
    "singleValueExtendedProperties": [{"id": "String {x} Name y", "value": "v"}],
    "attendees@odata.type": "#Collection(microsoft.graph.attendee)",
    "attendees": [],
}


def test_a_valid_event_passes() -> None:
    assert validate.problems(GOOD_EVENT, "event") == []
    validate.check_collection({"value": [GOOD_EVENT], "@odata.nextLink": "https://x"}, "event")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"subjct": "x"}, "no property 'subjct'"),
        ({"IsAllDay": True}, "did you mean 'isAllDay'"),
        ({"isAllDay": "true"}, "expected true/false"),
        ({"showAs": "away"}, "'away' is not a freeBusyStatus"),
        ({"importance": "urgent"}, "is not a importance"),
        ({"sensitivity": 1}, "enum: a string"),
        ({"start": {"timeZone": "UTC"}}, None),  # missing is allowed; null is not:
        ({"start": {"dateTime": None}}, "null is not allowed"),
        ({"body": {"contentType": "markdown"}}, "is not a bodyType"),
        ({"body": "text"}, "expected a itemBody object"),
        ({"categories": "Ledelse"}, "expected an array"),
        ({"categories": [1]}, "expected a string"),
        ({"location": {"coordinates": {"latitude": "60"}}}, "expected a number"),
        ({"reminderMinutesBeforeStart": 1.5}, "expected an integer"),
        ({"reminderMinutesBeforeStart": 2**31}, "out of Int32 range"),
        ({"createdDateTime": "2030-01-01T10:00:00"}, "not a valid Edm.DateTimeOffset"),
        ({"attachments": []}, "navigation property 'attachments'"),
        ({"singleValueExtendedProperties": [{"value": "v", "name": "n"}]}, "no property 'name'"),
        ({"recurrence": {"pattern": {"daysOfWeek": ["funday"]}}}, "is not a dayOfWeek"),
        ({"@odata.etag": 3}, "annotation is a string"),
        ({"subject@odata.type": "#String", "ghost@odata.type": "#x"}, "annotates 'ghost'"),
        ({"location": {"@odata.type": "#microsoft.graph.event"}}, "not location or a subtype"),
    ],
)
def test_each_kind_of_mistake_is_reported(change: dict[str, Any], needle: str | None) -> None:
    body = {**GOOD_EVENT, **change}
    found = validate.problems(body, "event")
    if needle is None:
        assert found == []
    else:
        assert any(needle in p for p in found), found
        with pytest.raises(validate.SchemaViolation):
            validate.check(body, "event")


def test_collection_replies_are_checked_item_by_item() -> None:
    found = validate.collection_problems({"value": [GOOD_EVENT, {"subject": 3}]}, "event")
    assert found == ["$.value[1].subject: expected a string, got int"]
    assert validate.collection_problems({"items": []}, "event") != []


def test_calendar_listing_with_enums() -> None:
    cal = {"id": "c1", "name": "Årsplan", "color": "LightBlue", "owner": {"address": "a@b"}}
    assert validate.problems(cal, "calendar") == []
    assert validate.problems({**cal, "color": "purple"}, "calendar") != []
    assert validate.problems({**cal, "allowedOnlineMeetingProviders": ["zoom"]}, "calendar") != []


def test_what_the_target_writes_is_valid_by_construction() -> None:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from syncsvc.domain.events import EventContent, EventStatus
    from syncsvc.targets.graph import event as ge

    oslo = ZoneInfo("Europe/Oslo")
    contents = [
        EventContent("Planleggingsdag", date(2024, 8, 12), date(2024, 8, 13)),
        EventContent(
            "Møte",
            datetime(2024, 9, 3, 14, tzinfo=oslo),
            datetime(2024, 9, 3, 15, tzinfo=oslo),
            status=EventStatus.TENTATIVE,
            description="x",
            location="Aula",
            categories=("Ledelse", "Fag"),
        ),
    ]
    for content in contents:
        for reminder in (None, 0, 30):
            body = ge.new_event(
                content,
                "u@test",
                "h",
                "Europe/Oslo",
                transaction_id="t",
                marker="v2.test",
                reminder=reminder,
            )
            assert validate.problems(body, "event") == []
            patch = ge.changed_fields(None, content, "h", 1, "Europe/Oslo", reminder)
            assert validate.problems(patch, "event") == []
    # The fields we $select are event properties, spelled as Microsoft spells them.
    known = validate.properties("event")
    assert [f for f in ge.SELECT.split(",") if f not in known] == []
