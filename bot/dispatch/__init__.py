"""Scheduled sends: when a proactive message may go out, and how fast."""
