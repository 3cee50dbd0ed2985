"""QR codes drawn on the server as inline SVG (segno), for pages with a strict CSP.

Black on white with the quiet zone whatever the page's colours: a phone's camera needs
the contrast. Presentation attributes only, no style attribute (the CSP allows no inline
style); `omitsize` leaves the size to the stylesheet, through the SVG's class.
"""

import segno
from markupsafe import Markup


def qr_svg(text: str, label: str, svg_class: str = "qr-code") -> Markup:
    """`text` as a QR code in inline SVG, named `label` for screen readers."""
    svg = segno.make(text, error="m").svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        omitsize=True,
        svgclass=svg_class,
        lineclass=None,
        title=label,
    )
    # role="img" so the title is read as the picture's name.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own output  # nosec B704
