"""Reports from notebooks: parameters -> papermill -> HTML / PDF / Excel, and an index.

The parts, one module each:

* :mod:`~crmlab.report.names` - names shared with notebooks (summary classes, cell tags,
  environment variables), defined once;
* :mod:`~crmlab.report.parameters` - a notebook's parameters, checked before anything runs;
* :mod:`~crmlab.report.execution` - papermill, locks, atomic publication (:func:`render_report`);
* :mod:`~crmlab.report.editions` - which cells and which summary each edition shows;
* :mod:`~crmlab.report.html` - the self-contained, sanitised page;
* :mod:`~crmlab.report.pdf` - printing with headless chromium, footer and page numbers;
* :mod:`~crmlab.report.excel` - one workbook per report;
* :mod:`~crmlab.report.index` and :mod:`~crmlab.report.batch` - ``--all`` and its index.

Page skeleton and style sheet are package data in ``templates/``.
"""

from crmlab.report.batch import render_all
from crmlab.report.errors import ExecutionError, ParameterError, ReportError
from crmlab.report.execution import (
    FORMATS,
    Report,
    data_file,
    data_source,
    execute,
    locked,
    publish,
    refuse_overwriting_inputs,
    render_report,
    reproducibility_html,
    resolve_data_path,
)
from crmlab.report.html import CSP, render_math, sanitize_html, to_html
from crmlab.report.index import write_index
from crmlab.report.names import (
    CLIENT,
    CLIENT_CLASS,
    CLIENT_ONLY,
    DATA_REPORT_CLASS,
    EDITIONS,
    EXPORT_ENV,
    STATIC_ENV,
    SUMMARY_CLASS,
    TEACHING,
    TEACHING_ONLY,
)
from crmlab.report.parameters import (
    Parameter,
    check_parameters,
    describe_parameters,
    find_notebook,
    list_notebooks,
    literal_parameter,
    load_parameters_file,
    notebook_name,
    notebook_parameters,
    notebooks_dir,
    short_repr,
)
from crmlab.report.pdf import find_chromium, print_pdf

__all__ = [
    "CLIENT",
    "CLIENT_CLASS",
    "CLIENT_ONLY",
    "CSP",
    "DATA_REPORT_CLASS",
    "EDITIONS",
    "EXPORT_ENV",
    "FORMATS",
    "STATIC_ENV",
    "SUMMARY_CLASS",
    "TEACHING",
    "TEACHING_ONLY",
    "ExecutionError",
    "Parameter",
    "ParameterError",
    "Report",
    "ReportError",
    "check_parameters",
    "data_file",
    "data_source",
    "describe_parameters",
    "execute",
    "find_chromium",
    "find_notebook",
    "list_notebooks",
    "literal_parameter",
    "load_parameters_file",
    "locked",
    "notebook_name",
    "notebook_parameters",
    "notebooks_dir",
    "print_pdf",
    "publish",
    "refuse_overwriting_inputs",
    "render_all",
    "render_math",
    "render_report",
    "reproducibility_html",
    "resolve_data_path",
    "sanitize_html",
    "short_repr",
    "to_html",
    "write_index",
]
