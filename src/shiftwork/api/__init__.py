"""The facade every front end calls (CLI, REST, dashboard, Excel)."""
