"""Pure functions the pages compute with: no Streamlit, no backend calls."""
