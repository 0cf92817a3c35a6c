"""The Streamlit dashboard: app.py routes, views/ render (not pages/: Streamlit would take that folder for its own page list), helpers/ compute (pure functions, unit-tested)."""
