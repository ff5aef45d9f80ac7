from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = "Submissions"

    def ready(self) -> None:
        from chartbusters.jobs import reaper
        from chartbusters.signals import stuck_jobs_reap
        from submissions.services.reaper import submission_fail_stuck
        from submissions.services.recovery import submission_recover_lost

        # first: a lost worker's entry runs again rather than fails
        stuck_jobs_reap.connect(reaper(submission_recover_lost), weak=False, dispatch_uid="submissions-recover-lost")
        stuck_jobs_reap.connect(reaper(submission_fail_stuck), weak=False, dispatch_uid="submissions-fail-stuck")
