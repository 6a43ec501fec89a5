"""PDF from the HTML report through WeasyPrint: A4 (the stylesheet's `@page`), fonts embedded
(subset). Liberation Serif lacks many precomposed Vietnamese letters (ở, ộ, ề…), which would come
out in a second font mid-word, so the PDF is set in DejaVu Serif (Condensed when installed, which
keeps a department's form to about 4 pages), which has them all (scripts/ensure_pdf.sh installs
both and the libraries WeasyPrint needs). No clock is read: the same
HTML gives the same bytes."""
from __future__ import annotations

import logging

from engine.core.errors import CchcError
from engine.core.i18n import _

# A user stylesheet: `!important` so that it wins over the report's own (author) rules.
PDF_CSS = """
body, svg, svg text { font-family: "DejaVu Serif Condensed", "DejaVu Serif", serif !important; }
body { font-size: 10pt !important; }
table.form { font-size: 8pt !important; }
"""


def pdf_bytes(html: bytes) -> bytes:
    try:
        import weasyprint
    except OSError as exc:  # the pango / fontconfig libraries are missing
        raise CchcError(_("PDF output needs the pango libraries (run scripts/ensure_pdf.sh as root): {reason}").format(
            reason=exc)) from None
    # CSS WeasyPrint does not know (screen-only rules) is not the reader's business.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html.decode("utf-8")).render(stylesheets=[weasyprint.CSS(string=PDF_CSS)])
    document.metadata.created = document.metadata.modified = None  # no clock in the file
    return document.write_pdf(pdf_identifier=b"cchc-report")
