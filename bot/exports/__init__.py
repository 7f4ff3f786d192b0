"""Exports of results: CSV, Excel and JSON, pseudonymous."""
