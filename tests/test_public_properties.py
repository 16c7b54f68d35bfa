"""Property: for generated plans and visibility texts, nothing private (people, e-mail
addresses, notes, measures, internal titles, person references after a date) reaches a public
calendar, and only items whose visibility cell clearly says "Hva skjer" are there at all."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncsvc.domain.ownership import OwnerKey
from syncsvc.pipeline.overrides import Overrides
from syncsvc.pipeline.route import desired_events
from syncsvc.plan.readers.text import read_text_table
from syncsvc.plan.table import build_plan
from syncsvc.plan.visibility import read_visibility

HEADER = (
    "ARBEIDSOPPGAVER AKTIVITETER\tDATO/TID\tKNYTTET TIL TILTAK NR\tSAMARBEID/ANSVAR"
    "\tKOMPETANSE\tSYNLIGGJØRING\tANNET EGNE NOTATER"
)
MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "september", "oktober")
FIRST = ("Trine", "Ellen", "Marit", "Tone", "Linda", "Edel", "Ola", "Kari")
LAST = ("Mellem", "Larsen", "Somby", "Mikkelsen", "Tindholm", "Olsen", "Nordmann", "Hansen")
POSITIVE = ("Hva skjer", "Kalender Hva skjer", 'Temaoversikt i "Hva skjer"-kalender', "HVA SKJER")
NEGATIVE = (
    "Skal IKKE i Hva skjer-kalenderen",
    "Ikke i Hva skjer",
    "Hva skjer: nei",
    "not in Hva skjer",
    "Hva skjer-kalender, nei",
    "Nei til Hva skjer",
)
UNCLEAR = ("Kanskje Hva skjer", "Hva skjer: ikke avklart", "Hva skjer-kalender?", "Evt. Hva skjer")
OTHER = ("", "Nettsak", "Facebook og nettside", "Internt")


@dataclass(frozen=True)
class Cal:
    name: str
    selector: str
    audience: str


CALENDARS = [Cal("org", "org", "staff"), Cal("hva-skjer", "public", "public")]


@st.composite
def plans(draw: st.DrawFn) -> tuple[str, list[str], list[tuple[str, str]], list[str]]:
    """(plan text, private words, [(title, visibility)], people's words)."""
    people = draw(
        st.lists(
            st.tuples(st.sampled_from(FIRST), st.sampled_from(LAST)),
            min_size=1,
            max_size=4,
            unique_by=lambda p: p[0],
        )
    )
    rows, private, items = [], [], []
    for n in range(draw(st.integers(1, 8))):
        tag = "abcdefgh"[n]  # letters: unique words per item
        first, last = draw(st.sampled_from(people))
        visibility = draw(st.sampled_from(POSITIVE + NEGATIVE + UNCLEAR + OTHER))
        title = f"Aktivitet{tag}{draw(st.sampled_from(('Bokprat', 'Seminar', 'Møte')))}"
        day, month = draw(st.integers(1, 28)), draw(st.sampled_from(MONTHS))
        topic = draw(
            st.sampled_from(
                (
                    "",
                    f" – v/{first} {last} sykemeldt - hemmelig{tag}",
                    f" – {first} orienterer",
                    f" v/{first}",
                    " – Lesekampanjen",
                )
            )
        )
        note, measure = f"Skjultnote{tag}", draw(st.integers(1, 40))
        responsible = f"Fylkesbiblioteket v/{first} ({first.lower()}.{last.lower()}@example.org)"
        competence = f"Skjultkomp{tag}"
        rows.append(
            f"{title}\t{day}. {month}{topic}\t{measure}\t{responsible}\t{competence}"
            f"\t{visibility}\t{note}"
        )
        private += [note, competence, f"hemmelig{tag}", "@example.org", f"Tiltak {measure}"]
        items.append((title, visibility))
    contacts = "\n\n".join(
        f"{f} {last} {f.lower()}.{last.lower()}@example.org" for f, last in people
    )
    text = (
        "Årsplan 2025\n\nVåren 2025\n\n"
        + "\n".join([HEADER, *rows])
        + "\n\nKontaktpersoner ved spørsmål:\n\n"
        + contacts
        + "\n"
    )
    names = [w for f, last in people for w in (f, last)]
    return text, private, items, names


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_nothing_private_reaches_a_public_calendar(
    generated: tuple[str, list[str], list[tuple[str, str]], list[str]],
) -> None:
    text, private, items, names = generated
    plan = build_plan(read_text_table(text, "plan.txt"))
    routed = desired_events(
        plan,
        CALENDARS,  # type: ignore[arg-type]
        Overrides(),
        domain="prop.test",
        owner_key=OwnerKey(b"property" * 4),
        timezone="Europe/Oslo",
    )
    public_titles = {t for t, v in items if read_visibility(v).public}
    for event in routed["hva-skjer"]:
        c = event.content
        shown = " ".join((c.summary, c.description, c.location, *c.categories, event.uid))
        folded = shown.casefold()
        for word in private + names:
            assert word.casefold() not in folded, (word, shown)
        # Only items the cell clearly makes public, and their titles only.
        title = c.summary.split(" – ")[0]
        assert title in public_titles, (title, items)
        assert "aktivitet" not in event.uid.casefold()
    # Every clearly public item is there (nothing was lost on the way either).
    shown_titles = {e.content.summary.split(" – ")[0] for e in routed["hva-skjer"]}
    assert shown_titles == {t for t in public_titles if any(i.title == t for i in plan.items)}
