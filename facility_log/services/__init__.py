"""Business rules: plain functions that take the acting user explicitly, run in one
transaction and record who changed what and why. Views, API and commands call these."""
