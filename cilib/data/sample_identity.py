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
