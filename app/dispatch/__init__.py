"""Dispatch rules (pure): which unit to offer an incident to, and which status may follow which."""
