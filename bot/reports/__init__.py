"""Reports: headline figures, one chart per question, for staff and the command line."""
