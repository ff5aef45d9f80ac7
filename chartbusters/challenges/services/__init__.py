"""Writes on challenges: bundles (load_challenge), the demo data (seed_demo), worker pings."""
