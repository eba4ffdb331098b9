"""The data contract: canonical tables, their columns, types and allowed values.

Every loader returns these column names and dtypes; the Great Expectations suites in
``expectations/`` check the same facts; the sample generator writes files that follow it.
Keep this module the one place those facts live.

Dtypes are pandas 3 names: ``str`` (the default string dtype), ``Int64`` (nullable integer),
``Float64``-like ``float64`` (NaN for missing), ``boolean`` (nullable boolean).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Codes allowed in categorical columns.
PHASES = ("primary", "secondary")
GENDERS = ("female", "male", "other")
SEN_CODES = ("none", "support", "ehcp")
PRIOR_ATTAINMENT = ("low", "middle", "high")
RESPONDENT_TYPES = ("pupil", "parent", "staff")
ETHNICITIES = (
    "white_british",
    "white_other",
    "asian",
    "black",
    "mixed",
    "chinese",
    "other",
    "unknown",
)
INCIDENT_TYPES = ("positive", "low_level", "serious", "suspension")


@dataclass(frozen=True)
class Column:
    """One canonical column: its dtype, whether it is required and its allowed values or range."""

    name: str
    dtype: str
    required: bool = True
    nullable: bool = False
    allowed: tuple | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, key and references to other tables."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    #: column -> (table, column) it must match
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: whether rows describe individual pupils (ids are pseudonymised at load)
    pupil_level: bool = False

    @property
    def required(self) -> list[str]:
        """Names of the columns every input must have."""
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        """Names of all canonical columns, required and optional."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column

TABLES: dict[str, Table] = {
    "schools": Table(
        "schools",
        (
            C("school_id", "str", description="trust's own school code"),
            C("school_name", "str"),
            C("phase", "str", allowed=PHASES),
            C("trust_id", "str"),
            C("region", "str", nullable=True),
            C("pupils_on_roll", "Int64", min=0, max=5000),
            C("urn", "str", required=False, nullable=True, description="DfE unique reference"),
        ),
        key=("school_id",),
    ),
    "pupils": Table(
        "pupils",
        (
            C("pupil_id", "str"),
            C("school_id", "str"),
            C("academic_year", "str"),
            C("year_group", "Int64", min=0, max=13),
            C("gender", "str", allowed=GENDERS),
            C("disadvantaged", "boolean"),
            C("fsm", "boolean"),
            C("sen", "str", allowed=SEN_CODES),
            C("eal", "boolean"),
            C("ethnicity", "str", allowed=ETHNICITIES),
            C("prior_attainment", "str", nullable=True, allowed=PRIOR_ATTAINMENT),
        ),
        key=("pupil_id", "academic_year"),
        references={"school_id": ("schools", "school_id")},
        pupil_level=True,
    ),
    "assessments": Table(
        "assessments",
        (
            C("pupil_id", "str"),
            C("school_id", "str"),
            C("academic_year", "str"),
            C("period", "str"),
            C("subject", "str"),
            C("assessment", "str"),
            C("score", "float64", min=0, max=100),
            C("grade", "str", required=False, nullable=True),
            C("max_score", "float64", required=False, nullable=True, min=0),
        ),
        key=("pupil_id", "period", "subject", "assessment"),
        references={
            "school_id": ("schools", "school_id"),
            "pupil_id": ("pupils", "pupil_id"),
        },
        pupil_level=True,
    ),
    "attendance": Table(
        "attendance",
        (
            C("pupil_id", "str"),
            C("school_id", "str"),
            C("academic_year", "str"),
            C("period", "str"),
            C("possible_sessions", "Int64", min=0, max=200),
            C("attended_sessions", "Int64", min=0, max=200),
        ),
        key=("pupil_id", "period"),
        references={
            "school_id": ("schools", "school_id"),
            "pupil_id": ("pupils", "pupil_id"),
        },
        pupil_level=True,
    ),
    "behaviour": Table(
        "behaviour",
        (
            C("pupil_id", "str"),
            C("school_id", "str"),
            C("period", "str"),
            C("incident_type", "str", allowed=INCIDENT_TYPES),
            C("count", "Int64", min=0, max=500),
        ),
        key=("pupil_id", "period", "incident_type"),
        references={
            "school_id": ("schools", "school_id"),
            "pupil_id": ("pupils", "pupil_id"),
        },
        pupil_level=True,
    ),
    "survey_items": Table(
        "survey_items",
        (
            C("item_id", "str"),
            C("scale", "str"),
            C("text", "str"),
            C("reverse_coded", "boolean"),
            C("min", "float64"),
            C("max", "float64"),
        ),
        key=("item_id",),
    ),
    "survey_responses": Table(
        "survey_responses",
        (
            C("respondent_id", "str"),
            C("respondent_type", "str", allowed=RESPONDENT_TYPES),
            C("school_id", "str"),
            C("period", "str"),
            C("item_id", "str"),
            C("response", "float64"),
            C("pupil_id", "str", required=False, nullable=True),
        ),
        key=("respondent_id", "period", "item_id"),
        references={
            "school_id": ("schools", "school_id"),
            "item_id": ("survey_items", "item_id"),
        },
        pupil_level=True,
    ),
    "systems": Table(
        "systems",
        (
            C("school_id", "str"),
            C("period", "str"),
            C("measure", "str"),
            C("value", "float64"),
        ),
        key=("school_id", "period", "measure"),
        references={"school_id": ("schools", "school_id")},
    ),
}

#: Tables whose ``period`` column must be a label in the config's calendar.
PERIOD_TABLES = ("assessments", "attendance", "behaviour", "survey_responses", "systems")
#: Columns that hold pseudonymised identifiers of people.
ID_COLUMNS = ("pupil_id", "respondent_id")
#: Order in which tables are loaded and validated (referenced tables first).
LOAD_ORDER = (
    "schools",
    "pupils",
    "assessments",
    "attendance",
    "behaviour",
    "survey_items",
    "survey_responses",
    "systems",
)
