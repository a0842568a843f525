"""The coordinator's report: the verdicts grouped (grouping), and the text,
Markdown, HTML and mail renderers that show them."""
