"""Norwegian calendar words, written out (Bokmål; the month names are the same in Nynorsk).

The date grammar (`plan/dates_lexer.py`) reads many more spellings; these are the names we
write and the ones month headings in plans use.
"""

MONTH_NAMES = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
