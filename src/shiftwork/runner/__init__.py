"""The container entrypoint: `python -m shiftwork.runner JOB_ID` (or SHIFTWORK_JOB_ID in the environment)."""
