"""The Streamlit dashboard: app.py routes, views/ render, helpers/ compute (pure functions, unit-tested).

The pages are in views/, not pages/: Streamlit would take a pages/ folder beside app.py for its own page list.
"""
