"""Reads of the evaluation app (HackSoft selectors): leaderboards and submission views."""
