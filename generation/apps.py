from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation (studio and engine)"

    def ready(self) -> None:
        from chartbusters.jobs import register_reaper
        from generation import files
        from generation.services.cleanup import (
            generation_job_delete_expired,
            generation_job_fail_stuck,
            training_fail_stuck,
        )

        register_reaper(generation_job_fail_stuck)
        register_reaper(training_fail_stuck)
        register_reaper(generation_job_delete_expired)
        files.register()
