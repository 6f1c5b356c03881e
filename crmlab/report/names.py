"""Names shared by notebooks (``crmlab.reports``, ``crmlab.widgets``, ``crmlab.teach``) and
the renderer, defined once: a renamed marker changes both sides, never only one.
"""

from __future__ import annotations

STATIC_ENV = "CRMLAB_STATIC"
"""Set to "1" by the renderer: widgets draw one static figure instead of sliders."""
EXPORT_ENV = "CRMLAB_EXPORT_DIR"
"""Set by the renderer: where ``reports.export`` writes the tables behind a report."""

SUMMARY_CLASS = "crmlab-summary"
"""HTML class of the teaching edition's executive summary block."""
CLIENT_CLASS = "crmlab-client-summary"
"""HTML class of the client edition's plain-words summary and recommended actions."""
DATA_REPORT_CLASS = "crmlab-data-report"
"""HTML class of ``reports.show_data_report``: rows read, kept, excluded and why."""
DATA_WORDS_CLASS = "crmlab-data-words"
"""HTML class of the one-paragraph description of the data inside a data report."""

SUMMARY_FILE = "executive_summary.json"
CLIENT_FILE = "client_summary.json"
EXPORTS_FILE = ".exports.jsonl"
"""One line per ``reports.export`` call (name, index), read to build the report's workbook."""

PARAMETERS_TAG = "parameters"
TEACHING_ONLY = "teaching-only"
"""Cell tag: shown in the teaching (and instructor) edition only (asides, exercises)."""
CLIENT_ONLY = "client-only"
"""Cell tag: shown in the client edition only."""

TEACHING = "teaching"
CLIENT = "client"
EDITIONS = (TEACHING, CLIENT)

INSTRUCTOR_SUFFIX = "-instructor"
CLIENT_SUFFIX = "-client"
INSTRUCTOR_TITLE = " (instructor edition)"
