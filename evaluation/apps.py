from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation"

    def ready(self) -> None:
        from evaluation.listeners import on_submission_event
        from submissions.models import Submission
        from submissions.signals import submission_changed

        submission_changed.connect(on_submission_event, sender=Submission, dispatch_uid="evaluation-submission-changed")

        from django.db.models.signals import post_delete, post_save

        from chartbusters.challenges.models import ReferenceFile
        from evaluation.listeners import on_reference_file_change

        post_save.connect(on_reference_file_change, sender=ReferenceFile, dispatch_uid="evaluation-reference-save")
        post_delete.connect(on_reference_file_change, sender=ReferenceFile, dispatch_uid="evaluation-reference-del")

        from django.db.models.signals import m2m_changed

        from chartbusters.challenges.models import Challenge
        from evaluation.listeners import on_judges_changed

        # A judge who leaves a challenge (.remove(), .clear(); the admin's judges inline: ChallengeWithRealnessAdmin)
        # is replaced in their open reviews.
        m2m_changed.connect(on_judges_changed, sender=Challenge.judges.through, dispatch_uid="evaluation-judge-left")

        from evaluation.listeners import on_ranking_settings_saved
        from evaluation.models import RankingSettings

        post_save.connect(on_ranking_settings_saved, sender=RankingSettings, dispatch_uid="evaluation-ranking-saved")

        from chartbusters.challenges.services.demo import register_demo_extra

        register_demo_extra("judging", _demo_judging)
        register_demo_extra("listening", _demo_listening)  # after the judging demo: votes on its entries


def _demo_judging(*, password: str) -> str:
    """seed_demo's judging challenge (imported when called: it scores with the worker's code)."""
    from evaluation.services.demo_judging import demo_judging_extra

    return demo_judging_extra(password=password)


def _demo_listening(*, password: str) -> str:
    """seed_demo's audience: demo listeners' pair votes on the judging demo (issue 26)."""
    from evaluation.services.demo_listening import demo_listening_extra

    return demo_listening_extra(password=password)
