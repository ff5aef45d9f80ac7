from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation"

    def ready(self) -> None:
        from evaluation.listeners import on_submission_event
        from submissions.services.hooks import register_submission_listener

        register_submission_listener(on_submission_event)
