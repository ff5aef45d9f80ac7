"""REST API of the submissions app: POST /api/challenges/{slug}/submissions/ (DESIGN section 7)."""
