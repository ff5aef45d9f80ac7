"""Writes of the evaluation app (HackSoft services): score storage, leaderboard table, scoring, renderings."""
