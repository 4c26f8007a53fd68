"""The auditor's pack (issue 22): per deployment a self-contained HTML report with a data-flow
diagram generated from the cloud assembly, an index and a digest, under cdk.out/compliance/.

`flows` reads stores and flows from the templates, `dot` draws them, `render` turns DOT into SVG
(Graphviz as WebAssembly), `html` and `pack` write the pages; `python -m policies.auditor` runs it
on an existing cdk.out.
"""

from policies.auditor.pack import Breach, write_auditor_pack

__all__ = ["Breach", "write_auditor_pack"]
