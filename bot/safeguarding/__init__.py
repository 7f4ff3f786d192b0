"""Safeguarding: screen what participants write for signs of risk."""
