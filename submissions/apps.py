from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = "Submissions"

    def ready(self) -> None:
        from chartbusters.jobs import register_reaper
        from submissions.services.reaper import submission_fail_stuck
        from submissions.services.recovery import submission_recover_lost

        register_reaper(submission_recover_lost)  # first: a lost worker's entry runs again rather than fails
        register_reaper(submission_fail_stuck)
