from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = "Submissions"

    def ready(self) -> None:
        from chartbusters.jobs import register_reaper
        from submissions.services.reaper import submission_fail_stuck

        register_reaper(submission_fail_stuck)
