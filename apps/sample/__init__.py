"""The sample application (see app.py)."""
