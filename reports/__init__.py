"""Renderers of run results (markdown, html, json, junit)."""
