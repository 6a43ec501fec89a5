"""PDF from the HTML report through WeasyPrint: A4 (the stylesheet's `@page`), fonts embedded
(subset). Liberation Serif lacks many precomposed Vietnamese letters (ở, ộ, ề…), which would come
out in a second font mid-word, so the PDF is set in DejaVu Serif, which has them all
(scripts/ensure_pdf.sh installs it and the libraries WeasyPrint needs). No clock is read: the same
HTML gives the same bytes."""
from __future__ import annotations

import logging

from engine.errors import CchcError

PDF_CSS = """
body, svg, table.form, .letterhead, .signature { font-family: "DejaVu Serif", serif; }
body { font-size: 10pt; }
table.form { font-size: 8pt; }
"""


def pdf_bytes(html: bytes) -> bytes:
    try:
        import weasyprint
    except OSError as exc:  # the pango / fontconfig libraries are missing
        raise CchcError(f"PDF output needs the pango libraries (run scripts/ensure_pdf.sh as root): {exc}") from None
    # CSS WeasyPrint does not know (screen-only rules) is not the reader's business.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html.decode("utf-8")).render(stylesheets=[weasyprint.CSS(string=PDF_CSS)])
    document.metadata.created = document.metadata.modified = None  # no clock in the file
    return document.write_pdf(pdf_identifier=b"cchc-report")
