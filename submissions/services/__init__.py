"""Writes of the submissions app (HackSoft services): intake, quotas, windows, lifecycle, organizer actions."""
