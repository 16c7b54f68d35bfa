# ruff: noqa: E501  (the seed plan is embedded verbatim; its lines are long)
"""Forms of the seed plan for tests: the seed text itself, and HTML and DOCX made from it.

The seed (the real Årsplan 2024, a tab-separated export) is embedded so the tests do not depend
on an untracked file. `seed_html` and `seed_docx` build the same table as HTML (with `<th>`,
`<br>`, `<i>`, a rowspan and colspans) and as a Word document (with vertical and horizontal
merges), so every reader can be checked against the text reading.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

SEED_LINES = (
    "",
    "",
    "Årsplan 2024 (oppdatert 01.03.24)",
    "",
    "Noen arrangementer/seminarer/forum mm er ikke tatt med her – husk også å sjekke vår kalender [Hva skjer? - Troms fylkesbibliotek](#)",
    "",
    "Overgang til nytt biblioteksystem for bibliotekene som skal gå over til Quria er i gang og vil foregå fram til sein høst.",
    "",
    "OBS! Årsplanen vil oppdateres etter hvert som mer blir bestemt.",
    "",
    "Endringer/forskyvninger kan komme gjennom hele planperioden.",
    "",
    "Våren 2024",
    "",
    "ARBEIDSOPPGAVER AKTIVITETER\tDATO/TID\tKNYTTET TIL TILTAK NR\tSAMARBEID/ANSVAR\tKOMPETANSE\tSYNLIGGJØRING\tANNET EGNE NOTATER",
    "Etablere mentorordning (kollegaveiledning) for nytilsatte biblioteksjefer\t\t12\tFylkesbiblioteket v/Linda/Marit (pluss annen kontaktperson på fylkesbiblioteket)\tMarit har laget forslag til opplegg for samhandlingen. Koordinere og vurdere: Hvem kan være mentor?\tRekruttere mentorer Ikke vært i kontakt med noen, det gjøres ved hvert enkelt tilfelle.\tGjennomføres i forlengelse av introduksjon til nytilsatte biblioteksjefer, når noen ønsker en mentor.",
    "Etablere rutiner for faste møter med kommunene\tStartes opp når ny leder er på plass\t1 5\tFylkesbiblioteket v/leder Hvem deltar på møtene? Leder + en rådgiver\tFørste møte arrangert med Harstad 1. februar 2024\t\tMarit har laget plan/agenda (rutiner) for regelmessige møter med kommunene",
    "Styrke de regionale samarbeidene\t\t6\tKontaktpersoner på fylkesbiblioteket: Nord-Troms – Tone Midt-Troms – Ellen Sør-Troms - Trine\t\t\tAvklare fylkesbiblioteket og regionenes rolle",
    "",
    "Opprette programråd\t\t10\tFylkesbiblioteket v/Ellen og Edel inngår i team De regionale samarbeidene UB (ved behov) Andre?\tKompetansebehov vurderes ved ulike satsinger\tProgramrådet skal være behjelpelig med/medvirke til synliggjøring av felles tiltak\tProgramrådets arbeid ses i sammenheng med gjennomføring av store prosjekter og fellessatsinger og arrangementer. Nedsettes i mars Teambeskrivelse - Hva er programrådets mandat, budsjett, tiltak og aktiviteter som inngår i programrådets ansvar.",
    "---------------------\t--\t----\t--\t--\t--\t---",
    "",
    "Temamøter mellom folkebibliotekene og fylkesbiblioteket «Tirsdagsmøter»\t16.januar OK 20.februar OK 19.mars 16.april 21.mai 18.juni\t4\tFylkesbiblioteket v/Trine i samarbeid med Finnmark\t\t\t",
    "«Ledertema» på tirsdagsmøte – en gang i semesteret\tTirsdagsmøtet 16. Januar – Kartleggingen Gjennomført\t4 12\tFylkesbiblioteket\t\t\t",
    "Kompetansetiltak Kunnskapsaktør – en gang i semesteret\tTirsdagsmøtet 20.februar Kompetansebanken Gjennomført\t15\tFylkesbiblioteket UB, andre bidragsytere\t\t\t<u>Kompetansebank - Kompetansebank (bibliotekutvikling.no)</u>",
    "Biblioteksjefmøte\t10.- 11. april\t2 7 15 16\tFylkesbiblioteket UB ved UIT\t<i>Dag1:</i> Biblioteksjefmøte med diverse saker <i>Dag 2:</i>\t\tTeam: Linda, Trine og Tone",
    "",
    "\t\t\t\tForskningsbasert kunnskap i folkebibliotek Ansvarlig Tone\t\tBiblioteksjefmøtet er tema på avdelingsmøtene fram til møtet er gjennomført.",
    "Sommerles\tOppstart 1.juni\t22\tFylkesbiblioteket v/Linda Folkebibliotekene\t\t\t",
    'Prosjektet «Livslang lesing»\t\t19 21 22 23 24 25\tFylkesbiblioteket V/Ellen og Marit\t\t\tOppstartseminar 7. mars Innspillmøter/kartlegging våren 2024 Tema på biblioteksjefmøtet Delekonferanse "Lesekultur for de minste" 23. og 24.mai',
    "Oppstartsmøte «Livslang lesing»\t7. mars\t\tFylkesbiblioteket v/ Ellen og Marit\t\t\tSamarbeid med UIT",
    "Stimulere til økt samarbeid med barnehager og helsestasjoner for å fremme lesing og leselyst for de minste\t\t20 22\tFylkesbiblioteket v/Ellen De regionale samarbeidene Folkebibliotekene\t\t\tAktiv formidling-prosjekt og «Livslang lesing»-prosjekt Midler fra Nasjonalbiblioteket",
    "Rekruttere studenter til studium på Oslo Met: «Forskningsbasert kunnskap i folkebibliotek». Oppstart studium høsten 2024\t\t11 15 16\tFylkesbiblioteket v/ Tone\t\t\tOppfølging mm.",
    "",
    "Videreføre satsingen på å utvikle folkebibliotekene som Kunnskapsaktører tilpasset sitt lokalsamfunn – (diverse knyttet til Oslo Met-studiet)\t\t15\tFylkesbiblioteket v/Tone UB Senja Skjervøy Studiebibliotekene\tTema dag 2 på biblioteksjefmøte\t\t",
    "Opprette ressursbank\t\t13\tFylkesbiblioteket v/Trine Folkebibliotekene\t\t\tVi bruker Kompetansebanken på bibliotekutvikling.no",
    "Revitalisere arbeidet med bibliotekromutvikling «Bibliotekrom 2.0»\t\t27\tFylkesbiblioteket v/Marit\t\t\tBibliotekromutvikling skal inn som en del av Livslang lesing-prosjektet Følge opp de som melder inn behov.",
    "",
    "Høsten 2024",
    "",
    "ARBEIDSOPPGAVER AKTIVITETER\tDATO/TID\tKNYTTE T TIL TILTAK NR\tSAMARBEID/ANSVAR\tKOMPETANSE\tSYNLIGGJØRING\tANNET EGNE NOTATER",
    'Temamøter mellom folkebibliotekene og fylkesbiblioteket «Tirsdagsmøter»\t20. august 17. september 15. oktober 19. november\t4\tFylkesbiblioteket v/Trine i samarbeid med Finnmark\t\tTemaoversikt i "Hva skjer"-kalender\t',
    "",
    "\t17. desember\t\t\t\t\t",
    "«Ledertema» på tirsdagsmøte – en gang i semesteret\tTirsdagsmøte\t12\tFylkesbiblioteket\tØnskede tema: Ikke avklart\tTemaoversikt i “Hva skjer”-kalender\t",
    "Kompetansetiltak Kunnskapsaktør – en gang i semesteret\tTirsdagsmøte\t15\tFylkesbiblioteket UB, andre bidragsytere\tØnskede tema: Ikke avklart\tTemaoversikt i “Hva skjer”-kalender\t",
    "Biblioteksjefmøte i Tromsø\t8.-9. oktober\t2 3 12\t\tTema på dag 2: Livslang lesing-prosjektet\t\tInvitere biblioteksjefenes ledere til dag 2",
    "«Livslang lesing»-prosjekt\t\t19 21 22 23 24 25\tFylkesbiblioteket v/Ellen og Marit\t\t\tStudietur Utvikle prosjektsøknad",
    "Samisk språkuke\tUke 43\t24\tFylkesbiblioteket\t\t\t",
    "IBBY\t?\t22\tFylkesbiblioteket\t\t\t",
    "",
    "Kontaktpersoner ved spørsmål:",
    "",
    "Ellen Berg Larsen ellen.larsen@tromsfylke.no",
    "",
    "Trine Mellem trine.mellem@tromsfylke.no",
    "",
    "Linda M. Tindholm linda.m.tindholm@tromsfylke.no",
    "",
    "Edel Olsen edel.olsen@tromsfylke.no",
    "",
    "Tone Mikkelsen tone.mikkelsen@tromsfylke.no",
    "",
    "Marit Andersen Somby marit.andersen.somby@tromsfylke.no",
)
SEED_TEXT = "\n".join(SEED_LINES)
SEED_NAME = "arsplan-2024.txt"

_MARKUP = re.compile(r"(</?[iub]>|\[[^\]]*\]\([^)]*\))")


@dataclass
class _Table:
    rows: list[list[str]]


def _blocks(text: str) -> Iterator[str | _Table]:
    """Paragraph lines and tables (runs of tab lines; blank lines inside a run are dropped)."""
    table: _Table | None = None
    for line in text.split("\n"):
        if "\t" in line:
            if table is None:
                table = _Table([])
            table.rows.append(line.split("\t"))
        elif line.strip():
            if table is not None:
                yield table
                table = None
            yield line
    if table is not None:
        yield table


def _merges(rows: list[list[str]]) -> set[int]:
    """Rows whose title cell is merged down into the continuation row after them."""
    return {i for i in range(len(rows) - 1) if rows[i][0].strip() and not rows[i + 1][0].strip()}


def _inline_html(text: str) -> str:
    out = []
    for part in _MARKUP.split(text):
        if _MARKUP.fullmatch(part):
            link = re.fullmatch(r"\[([^\]]*)\]\(([^)]*)\)", part)
            out.append(
                f'<a href="{html.escape(link[2])}">{html.escape(link[1])}</a>' if link else part
            )
        else:
            # A line break after the first sentence: the reader must read it as a space.
            out.append(html.escape(part).replace(". ", ".<br>", 1))
    return "".join(out)


def seed_html(text: str = SEED_TEXT) -> str:
    out = ["<!DOCTYPE html>", "<html><head><title>Årsplan</title>", "<script>x()</script>"]
    out.append("</head><body>")
    first = True
    for block in _blocks(text):
        if isinstance(block, str):
            tag = "h1" if first else "h2" if re.match(r"^(Våren|Høsten) \d{4}$", block) else "p"
            out.append(f"<{tag}>{_inline_html(block)}</{tag}>")
            first = False
            continue
        out.append('<table border="1">')
        merged = _merges(block.rows)
        for i, row in enumerate(block.rows):
            cell_tag = "th" if "DATO/TID" in row else "td"
            cells = []
            j = 1 if i - 1 in merged else 0  # the title cell is covered by the rowspan above
            while j < len(row):
                k = j
                while j > 0 and k < len(row) and not row[k].strip():
                    k += 1
                if k - j >= 2:
                    cells.append(f'<td colspan="{k - j}"></td>')
                    j = k
                    continue
                span = ' rowspan="2"' if j == 0 and i in merged else ""
                cells.append(f"<{cell_tag}{span}>{_inline_html(row[j])}</{cell_tag}>")
                j += 1
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def _add_runs(paragraph: object, text: str) -> None:
    italic = underline = False
    for part in _MARKUP.split(text):
        if part in ("<i>", "</i>"):
            italic = part == "<i>"
        elif part in ("<u>", "</u>"):
            underline = part == "<u>"
        elif part in ("<b>", "</b>"):
            continue
        elif part:
            link = re.fullmatch(r"\[([^\]]*)\]\(([^)]*)\)", part)
            first, sep, rest = (link[1] if link else part).partition(". ")
            run = paragraph.add_run(first + sep.rstrip())  # type: ignore[attr-defined]
            run.italic, run.underline = italic, underline
            if sep and rest:
                run.add_break()  # a soft line break in the cell
                tail = paragraph.add_run(rest)  # type: ignore[attr-defined]
                tail.italic, tail.underline = italic, underline


def seed_docx(text: str = SEED_TEXT) -> bytes:
    import docx

    document = docx.Document()
    for block in _blocks(text):
        if isinstance(block, str):
            _add_runs(document.add_paragraph(), block)
            continue
        width = max(len(r) for r in block.rows)
        table = document.add_table(rows=len(block.rows), cols=width)
        merged = _merges(block.rows)
        for i, row in enumerate(block.rows):
            for j, value in enumerate(row):
                if value:
                    _add_runs(table.cell(i, j).paragraphs[0], value)
        for i in sorted(merged):
            table.cell(i, 0).merge(table.cell(i + 1, 0))
        last = block.rows[-1]
        empty = [j for j in range(1, len(last)) if not last[j].strip()]
        if len(empty) >= 2 and empty[-1] - empty[0] == len(empty) - 1:
            table.cell(len(block.rows) - 1, empty[0]).merge(
                table.cell(len(block.rows) - 1, empty[-1])
            )
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
