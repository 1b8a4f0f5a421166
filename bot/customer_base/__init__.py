"""The customer base: the company's customer list imported from CSV, personal invite links,
and the base as the frame the pulse is weighted against."""
