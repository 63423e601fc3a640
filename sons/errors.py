"""Stable error codes of the programme app (documented in the OpenAPI schema).

Rule violations are UPPER_CASE like the programme's reason codes; plain input errors keep the
lower-case codes of Django and DRF (`required`, `invalid`, `unique`, `does_not_exist`...)."""

from enum import StrEnum


class SonsErrorCode(StrEnum):
    # schemes
    CALENDAR_ORDER = "CALENDAR_ORDER"
    SECTOR_MISMATCH = "SECTOR_MISMATCH"
    SCHEME_IDENTITY_FROZEN = "SCHEME_IDENTITY_FROZEN"
    # waves
    WAVE_CODE_FROZEN = "WAVE_CODE_FROZEN"
    # requirement sets
    NO_DRAFT = "NO_DRAFT"
    EMPTY_DRAFT = "EMPTY_DRAFT"
    DRAFT_UNCHANGED = "DRAFT_UNCHANGED"
    VERSION_FROZEN = "VERSION_FROZEN"
    DUPLICATE_CODE = "DUPLICATE_CODE"
    # eligible base
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    INVALID_CSV = "invalid_csv"
    DUPLICATE_LINE = "duplicate_line"


ERROR_CODES_DOC = """
Error codes of the programme endpoints (beyond `required`, `invalid`, `null`, `unique`,
`does_not_exist`, `unknown_field`, `max_value`, `offset_required`...):

- `CALENDAR_ORDER` (400): the calendar must read opens < closes, opens ≤ order deadline ≤
  installation deadline ≤ payment deadline.
- `SECTOR_MISMATCH` (400): the category belongs to another sector.
- `SCHEME_IDENTITY_FROZEN` (409): code, wave, sector and category no longer change once the
  scheme has a published requirement set.
- `WAVE_CODE_FROZEN` (409): a wave's code does not change once schemes use it.
- `NO_DRAFT`, `EMPTY_DRAFT`, `DRAFT_UNCHANGED` (409): nothing to publish.
- `VERSION_FROZEN` (409): published versions never change; writes go to the draft.
- `DUPLICATE_CODE` (400): two scenarios (or two proofs of a scenario) share a code.
- `file_too_large` (413), `unsupported_file_type` (415), `invalid_csv` (400): the CSV file itself
  is refused; bad lines of a readable file are reported, not refused.
"""
