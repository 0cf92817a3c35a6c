"""The Streamlit dashboard: app.py routes, pages/ render, helpers/ compute (pure functions, unit-tested)."""
