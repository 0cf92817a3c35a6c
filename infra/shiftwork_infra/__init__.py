"""Shiftwork's infrastructure: one Construct per concern, composed by ShiftworkStack."""
