"""Consultation rounds: planning them, sending what they promise, and answering replies."""
