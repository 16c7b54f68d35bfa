"""Read a 10,000-row plan table: the seed's rows replicated, and rows that are all distinct.

.venv/bin/python -m bench.bench_read [--rows 10000] [--json]
Prints the best of three reads of each (no asserts).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._json import emit
from syncsvc.plan.load import read_plan_bytes
from tests.plan_docs import SEED_LINES

ROWS = 10_000
_HEADER = next(line for line in SEED_LINES if "DATO/TID" in line)
# The seed's contact list ("Kontaktpersoner ved spørsmål:" and its six people) ends both plans.
_CONTACTS = SEED_LINES[next(i for i, line in enumerate(SEED_LINES) if line.startswith("Kontakt")) :]


def replicated(rows: int) -> str:
    """The seed's title and first header, then its table rows over and over."""
    table = [line for line in SEED_LINES if "\t" in line and "DATO/TID" not in line]
    body = [table[i % len(table)] for i in range(rows)]
    return "\n".join(["Årsplan 2024", "Våren 2024", _HEADER, *body, *_CONTACTS])


_MONTHS = "januar februar mars april mai juni august september oktober november desember"
_MONTH = _MONTHS.split()
_NAMES = ("Linda", "Marit", "Ellen", "Trine", "Tone", "Edel", "Ellen Berg Larsen", "Kari")
_TOPICS = ("lesing", "formidling", "bibliotekrom", "kompetanse", "samarbeid", "statistikk")


def _dates(k: int) -> str:
    """The date cell of row k: the seed's forms in turn, days and times spread over the year."""
    j = k // 10  # the n-th use of its form (there are ten)
    d, m, m2, h = 1 + j % 28, _MONTH[j % 11], _MONTH[(j + 1) % 11], 8 + j % 9
    forms = (
        f"{d}.{m}",  # "16.januar"
        f"{d}.- {d + 1}. {m}",  # "10.- 11. april"
        f"Uke {1 + j % 52}",  # "Uke 43"
        f"{d}. {m} kl. {h}.{j % 4 * 15:02}–{h + 2}.30",  # "kl. 10.00–11.30"
        f"{d}.{m} OK {1 + j % 27}.{m2} {1 + j % 25}. {m2}",  # "16.januar OK 20.februar …"
        "?",
        f"Tirsdagsmøtet {d}. {m} – tema {k} Gjennomført",  # "Tirsdagsmøtet 16. Januar – …"
        f"{d}.-{d + 2}. {m}",  # "8.-9. oktober"
        f"Oppstart {d}.{m} for gruppe {k}",  # "Oppstart 1.juni"
        "",
    )
    return forms[k % 10]


def _row(k: int) -> str:
    """Row k of the distinct table: no two rows alike (title, people, notes carry k)."""
    a, b = _NAMES[k // 4 % len(_NAMES)], _NAMES[(k // 4 + 3) % len(_NAMES)]
    topic, d, m = _TOPICS[k % len(_TOPICS)], 1 + k * 11 % 28, _MONTH[k * 7 % 11]
    people = (
        f"Fylkesbiblioteket v/{a}/{b} (pluss kontaktperson {k})",
        f"Fylkesbiblioteket v/ {a} og {b} i samarbeid med Finnmark {k}",
        f"Fylkesbiblioteket UB ved UIT, gruppe {k}",
        f"Fylkesbiblioteket v/leder {k} Hvem deltar? Leder + en rådgiver",
    )[k % 4]
    notes = (
        f"Oppstartseminar {d}. {m} om {topic} {k}",
        f"Team: {a}, {b} og Tone; sak {k}",
        f"Ansvarlig {a} for {topic} {k}",
        f"Følges opp i {m} (sak {k})",
    )[k % 4]
    measures = f"{k % 27 + 1} {k % 13 + 1}"
    title = f"{topic.capitalize()} {k}: tiltak {k * 7 % 1000} i «{_MONTH[k % 11]}»"
    shown = f'Temaoversikt i "Hva skjer"-kalender, sak {k}' if k % 5 == 0 else ""
    return "\t".join([title, _dates(k), measures, people, f"kompetanse {k}", shown, notes])


def distinct(rows: int) -> str:
    """A plan of `rows` distinct table rows (built the same way every time)."""
    body = [_row(k) for k in range(rows)]
    return "\n".join(["Årsplan 2024", "Våren 2024", _HEADER, *body, *_CONTACTS])


def _best(data: bytes) -> tuple[float, str]:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        plan = read_plan_bytes(data, name="bench.txt")
        best = min(best, time.perf_counter() - start)
    return best, f"{len(plan.items)} items, {len(plan.problems)} problems"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--json", action="store_true", help="also print the numbers for run_all")
    args = parser.parse_args()
    numbers = {}
    for key, label, make in (
        ("read.rows_10k_s", "replicated seed", replicated),
        ("read.rows_10k_distinct_s", "distinct", distinct),
    ):
        best, what = _best(make(args.rows).encode())
        numbers[key] = best
        print(f"{args.rows} rows {label} ({what}) in {best:.3f} s: {args.rows / best:,.0f} rows/s")
    if args.json:
        emit(numbers)


if __name__ == "__main__":
    main()
