"""The weekly staff digest: figures, themes, chart, rendering and sending."""
