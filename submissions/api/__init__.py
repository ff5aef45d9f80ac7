"""REST API of the submissions app: POST /api/challenges/{slug}/submissions/ (docs/design.md section 7)."""
