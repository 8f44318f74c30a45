"""Example gen plugin: the family lives in `family.py`, its template in `templates/`."""
