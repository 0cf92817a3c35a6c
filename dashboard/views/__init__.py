"""The pages, one script each: Streamlit runs them as __main__; tests import them for their widget keys."""
