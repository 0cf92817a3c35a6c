"""Lambda entry points: decorators, parse the event, one call into shiftwork.api, return."""
