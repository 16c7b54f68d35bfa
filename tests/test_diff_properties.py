"""Property: applying a diff and diffing again leaves nothing to do; foreign events are
never touched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from syncsvc.domain.changes import ChangeKind
from syncsvc.domain.events import DesiredEvent, EventContent, ObservedEvent
from syncsvc.pipeline.diff import diff

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
UIDS = [f"u{i}" for i in range(8)]
FOREIGN = {f"f{i}": f"foreign-{i}" for i in range(3)}

contents = st.builds(
    lambda summary, day: EventContent(summary, day, day + timedelta(days=1)),
    st.sampled_from(["Møte", "Tirsdagsmøte", "Biblioteksjefmøte"]),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)),
)


def as_observed(uid: str, stored: EventContent, actual: EventContent, seq: int) -> ObservedEvent:
    return ObservedEvent(
        uid=uid,
        remote_id=uid,
        etag=str(seq),
        stored_hash=stored.content_hash(),
        actual_hash=actual.content_hash(),
        sequence=seq,
        start=actual.start,
        end=actual.end,
        summary=actual.summary,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[DesiredEvent], dict[str, ObservedEvent], bool]:
    wanted = draw(st.lists(st.sampled_from(UIDS), unique=True))
    desired = [DesiredEvent(uid=u, content=draw(contents)) for u in wanted]
    held = draw(st.lists(st.sampled_from(UIDS), unique=True))
    observed = {}
    for uid in held:
        stored = draw(contents)
        actual = stored if draw(st.booleans()) else draw(contents)  # sometimes drifted
        observed[uid] = as_observed(uid, stored, actual, draw(st.integers(0, 3)))
    return desired, observed, draw(st.booleans())


@given(scenarios())
def test_apply_then_diff_is_a_fixed_point(
    scenario: tuple[list[DesiredEvent], dict[str, ObservedEvent], bool],
) -> None:
    desired, observed, delete_past = scenario
    calendar = dict(observed)  # the in-memory calendar: owned events ...
    foreign = dict(FOREIGN)  # ... and events someone else wrote (never observed)
    first = diff(desired, calendar, now=NOW, delete_past=delete_past)
    by_uid = {e.uid: e for e in desired}
    for change in first.changes:
        assert change.uid not in foreign
        if change.kind is ChangeKind.DELETE:
            del calendar[change.uid]
        else:
            event = by_uid[change.uid]
            seq = calendar[change.uid].sequence + 1 if change.uid in calendar else 0
            calendar[change.uid] = as_observed(change.uid, event.content, event.content, seq)
    second = diff(desired, calendar, now=NOW, delete_past=delete_past)
    assert second.empty
    assert foreign == FOREIGN
    assert {e.uid for e in desired} <= calendar.keys()
    # every change names a uid that was desired or owned; nothing else is ever touched
    assert {c.uid for c in first.changes} <= {e.uid for e in desired} | observed.keys()
