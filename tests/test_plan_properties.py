"""Any input to any reader gives a Plan or a PlanError, never another exception."""

from __future__ import annotations

import functools
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncsvc.domain.errors import PlanError
from syncsvc.domain.plan import Plan
from syncsvc.plan.load import read_plan_bytes
from tests.corpus_forms import build
from tests.plan_docs import SEED_LINES, seed_docx
from tests.test_corpus import CORPUS

FORMATS = [
    *("auto", "table-text", "table-html", "table-docx", "activity-list", "canonical"),
    *("list-text", "grid-text", "week-text", "table-csv", "xlsx", "ods", "odt", "pdf"),
]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text built from plan-like pieces reaches deep into the readers, not just their first check.
_PIECES = st.sampled_from(
    [
        *SEED_LINES[:20],
        "\t",
        "\n",
        "<table><tr><td rowspan=3>",
        "<th colspan=99>DATO",
        "</td></tr>",
        "<table>",
        "<br>",
        "Våren 2024",
        "Januar",
        "9. januar: Møte?",
        "items:\n  - title: x\n",
        "year: 2024\n",
        "[[items]]\n",
        "v/Tone og ",
        "Team: ",
        "Kontaktpersoner ved spørsmål:\nTone T tone@x.no\n",
        # The list, grid and inferred-table shapes of other plans.
        "Haust 22 / Vår 23\n",
        "22     Formannskap\n",
        "4.\nForeldremøte\n",
        "Veke 41. 9. - 13. oktober  - haustferie\n",
        "Lokalstyret\nTirsdag 16. januar\n",
        " 1. Torsdag 15.08.19 ",
        "– AVLYST",
        "Ca. ",
        "(bruker å være)",
        "Utvalg\tJan.\tFeb.\tMar.\tApr.\tMai\tJuni\n",
        "17. septmber",
        "18. desember - 2. desember",
        "1. marsKvinesdal",
        "Søndag 8.",
        "22.-1.",
        "Dato;Tid;Arrangement\n",
        "03.09.2023;18.00 – 20.00;Messe\n",
        "%PDF-1.4\n",
        "begge dager fra kl 07.30 – 09.00",
        "Veke\tMåndag\tTysdag\tOnsdag\tTorsdag\tFredag\n",
        "36\t4.\tTur\t\t7. AVLYST\n",
    ]
)
_PLANLIKE = st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=30).map("".join)


def _read(data: bytes, fmt: str, name: str) -> None:
    result: Plan | PlanError
    try:
        result = read_plan_bytes(data, name=name, format=fmt)
    except PlanError as err:
        result = err
    if isinstance(result, PlanError):
        assert result.where is not None  # every reading error says where
    else:
        assert isinstance(result, Plan)


@pytest.mark.parametrize("fmt", FORMATS)
@FAST
@given(data=st.binary(max_size=2000))
def test_any_bytes(fmt: str, data: bytes) -> None:
    _read(data, fmt, "plan")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["plan.txt", "plan.html", "plan.yaml", "plan.csv"])
@FAST
@given(text=_PLANLIKE)
def test_any_planlike_text(fmt: str, name: str, text: str) -> None:
    _read(text.encode(), fmt, name)


@FAST
@given(cut=st.integers(min_value=0, max_value=20000), junk=st.binary(max_size=50))
def test_damaged_docx(cut: int, junk: bytes) -> None:
    data = _docx()
    _read(data[:cut] + junk + data[cut + len(junk) :], "table-docx", "plan.docx")


@functools.cache
def _docx() -> bytes:
    return seed_docx()


@functools.cache
def _binary(form: str) -> bytes:
    source = next(CORPUS.glob(f"*.{form}.txt"))
    return build(source)[1]


@pytest.mark.parametrize("form", ["xlsx", "ods", "pdf"])
@FAST
@given(cut=st.integers(min_value=0, max_value=6000), junk=st.binary(max_size=50))
def test_damaged_spreadsheets_and_pdfs(form: str, cut: int, junk: bytes) -> None:
    data = _binary(form)
    _read(data[:cut] + junk + data[cut + len(junk) :], "auto", f"plan.{form}")


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    page = "<h1>Årsplan 2024</h1>" + "<div>" * 20_000 + "x"
    _read(page.encode(), "table-html", "deep.html")


def _ods_zip(*, flag: int = 0, version: int = 20) -> bytes:
    """A tiny ODS-shaped zip whose central directory says `flag` and `version` for the
    mimetype member (what a damaged byte there looks like to zipfile)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<x/>")
    data = bytearray(out.getvalue())
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = version.to_bytes(2, "little")
    data[central + 8 : central + 10] = flag.to_bytes(2, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("flag", "version"),
    [(1, 20), (0, 64), (1 << 5, 20)],
    ids=["encrypted-member", "zip-version-6.4", "patched-data"],
)
def test_office_zips_zipfile_cannot_open_are_plan_errors(flag: int, version: int) -> None:
    # Found by the damaged-file property: zipfile raises RuntimeError / NotImplementedError.
    with pytest.raises(PlanError, match="not a valid zip-based office file"):
        read_plan_bytes(_ods_zip(flag=flag, version=version), name="plan.ods")
