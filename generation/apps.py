from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation (studio and engine)"

    def ready(self) -> None:
        from chartbusters.jobs import reaper
        from chartbusters.signals import stuck_jobs_reap
        from generation import files
        from generation.services.cleanup import (
            generation_job_delete_expired,
            generation_job_fail_stuck,
            training_fail_stuck,
        )

        for uid, service in (("generation-job-fail-stuck", generation_job_fail_stuck),
                             ("generation-training-fail-stuck", training_fail_stuck),
                             ("generation-job-delete-expired", generation_job_delete_expired)):
            stuck_jobs_reap.connect(reaper(service), weak=False, dispatch_uid=uid)
        files.connect()
