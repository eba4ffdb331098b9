"""Identity of the synthetic sample trust: its trust id and its schools' ids and names.

The generator (:mod:`cilib.sample.generate`) writes these into the sample's schools table, and
:func:`cilib.data.config.is_sample_data` recognises the sample by them. The names are fictional
and fixed in code, so they identify the generator's output whatever the seed.
"""

from __future__ import annotations

#: The sample trust's id (``trust_id`` in its schools table).
TRUST_ID = "NLT"
#: The sample trust's name.
TRUST_NAME = "Northfield Learning Trust (synthetic sample)"
#: School id -> school name of the sample's eight schools.
SCHOOL_NAMES: dict[str, str] = {
    "NLT01": "Northfield Primary Academy",
    "NLT02": "Beckside Primary School",
    "NLT03": "Hollins Lane Primary",
    "NLT04": "Ashby Road Primary",
    "NLT05": "Millbrook Church of England Primary",
    "NLT06": "Northfield Academy",
    "NLT07": "Castlegate Academy",
    "NLT08": "Riverside High School",
}


def district_copy(k: int) -> tuple[str, str, str]:
    """Return ``(school_id, name, copied_id)`` of school ``k`` (from 0) of a sample district.

    A district (``cilib sample --schools N``) is the eight sample schools followed by copies of
    them in turn: school 8 is ``("NLT09", "Northfield Primary Academy 2", "NLT01")``.

    Examples
    --------
    >>> district_copy(0), district_copy(8)[:2], district_copy(23)
    (('NLT01', 'Northfield Primary Academy', 'NLT01'), ('NLT09', 'Northfield Primary Academy 2'), ('NLT24', 'Riverside High School 3', 'NLT08'))
    """  # noqa: E501
    ids = list(SCHOOL_NAMES)
    copied = ids[k % len(ids)]
    name = SCHOOL_NAMES[copied] + (f" {k // len(ids) + 1}" if k >= len(ids) else "")
    return f"NLT{k + 1:02d}", name, copied


def is_sample_school(school_id: str, school_name: str) -> bool:
    """Return True if ``(school_id, school_name)`` is a sample school or a district copy of one.

    >>> is_sample_school("NLT09", "Northfield Primary Academy 2"), is_sample_school("NLT09", "X")
    (True, False)
    """
    digits = school_id[3:]
    if not (school_id.startswith("NLT") and digits.isdigit() and int(digits) >= 1):
        return False
    return district_copy(int(digits) - 1)[:2] == (school_id, school_name)
