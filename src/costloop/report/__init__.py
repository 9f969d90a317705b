"""Reports: the self-contained HTML report with inline SVG charts."""
