"""Results pages: my submissions, a submission (chart, piano roll, audio, outputs), the leaderboard."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from evaluation.models import Rendering
from submissions.models import SubmissionOutput
from tests.results.conftest import automatic_only, failed_entry, new_entry, scored_entry

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_leaderboard_page_ranks_highlights_and_explains(challenge, people):
    automatic_only(challenge)  # no human judging (alpha 0): the board is not blind while open
    other = scored_entry(challenge, people["other"], 91.0, minutes=1, title="Fugue")
    scored_entry(challenge, people["entrant"], 55.0, minutes=2, title="Chorale")
    rendering = Rendering.objects.create(submission=other, audio="renderings/x/entry.mp3",
                                         pianoroll="renderings/x/entry.png")

    html = client_for(people["entrant"]).get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert 'id="provisional"' in html
    assert html.index("Fugue") < html.index("Chorale")
    assert html.count('class="mine"') == 1
    assert 'class="mine" data-submission' in html
    assert f'<audio controls preload="none" src="/files/audio/{rendering.public_id}/">' in html
    assert f'<details data-submission="{other.pk}">' in html
    charts = json.loads(html.split('<script id="score-charts" type="application/json">')[1].split("</script>")[0])
    assert charts[str(other.pk)][0] == ["style", 0.91, "0.91"]
    assert ["pitch range", 0.88, "0.88 (value 12)"] in charts[str(other.pk)]
    assert 'id="csv-link"' not in html

    organizer_html = client_for(people["organizer"]).get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert 'id="csv-link"' in organizer_html
    assert 'class="mine"' not in organizer_html


def test_leaderboard_page_your_best_entry_line_has_a_listen_player(challenge, people):
    """Issue 25: when your row is not on the page shown, the "Your best entry" line plays your entry too."""
    automatic_only(challenge)
    scored_entry(challenge, people["other"], 91.0, minutes=1, title="Fugue")
    mine = scored_entry(challenge, people["entrant"], 55.0, minutes=2, title="Chorale")
    rendering = Rendering.objects.create(submission=mine, audio="renderings/y/entry.mp3",
                                         pianoroll="renderings/y/entry.png")

    html = client_for(people["entrant"]).get(f"/challenges/{challenge.slug}/leaderboard/?offset=2").content.decode()
    line = html.split("Your best entry ranks")[1].split("</p>")[0]
    assert f'href="/submissions/{mine.pk}/"' in line
    assert f'<audio controls preload="none" src="/files/audio/{rendering.public_id}/" id="my-best-audio"' in line
    on_page = client_for(people["entrant"]).get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert "Your best entry ranks" not in on_page  # its row (with its player) is on the page instead


def test_leaderboard_page_final_when_results_published(challenge, people):
    challenge.results_published = True
    challenge.save()
    html = client_for().get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert 'id="provisional"' not in html
    assert "No entry has been scored yet" in html


def test_leaderboard_page_of_an_unpublished_challenge_is_404(challenge, people):
    challenge.published = False
    challenge.save()
    assert client_for(people["entrant"]).get(f"/challenges/{challenge.slug}/leaderboard/").status_code == 404
    assert client_for(people["organizer"]).get(f"/challenges/{challenge.slug}/leaderboard/").status_code == 200


def test_my_submissions_page_polls_while_an_entry_is_busy(challenge, people):
    assert client_for().get("/submissions/mine/").status_code == 302  # to the login page
    failed_entry(challenge, people["entrant"], error="No notes at all.")
    html = client_for(people["entrant"]).get("/submissions/mine/").content.decode()
    assert "No notes at all." in html
    assert "let pending = false" in html
    new_entry(challenge, people["entrant"], title="Waiting")
    html = client_for(people["entrant"]).get("/submissions/mine/").content.decode()
    assert "Waiting" in html
    assert "let pending = true" in html
    assert "/api/submissions/?mine=1" in html


def test_submission_page_shows_chart_piano_roll_audio_and_outputs(challenge, people):
    entry = scored_entry(challenge, people["entrant"], 77.0, title="Chorale")
    rendering = Rendering.objects.create(submission=entry, audio="renderings/e/entry.mp3",
                                         pianoroll="renderings/e/entry.png")
    # an example input: the entrant hears their model on it while the challenge is open (issue 24)
    challenge.input_melodies.create(name="melody-1", role="example", midi="challenges/inputs/m.mid")
    output = SubmissionOutput.objects.create(submission=entry, input_name="melody-1", midi="submissions/outputs/o.mid")
    output_rendering = Rendering.objects.create(
        submission=entry, output=output, audio="renderings/e/o.mp3", pianoroll="renderings/e/o.png"
    )

    html = client_for(people["entrant"]).get(f"/submissions/{entry.pk}/").content.decode()
    assert "Score: 77.0" in html
    assert '<div class="score-chart"' in html
    assert ">style<" in html
    assert f'src="/files/pianoroll/{rendering.public_id}/"' in html
    assert f'src="/files/audio/{rendering.public_id}/"' in html
    assert "input 1" in html
    assert "melody-1" not in html  # the hidden input's name is the organizers' only
    assert f'src="/files/audio/{output_rendering.public_id}/"' in html
    assert "/media/" not in html


def test_submission_page_is_404_for_others_unless_ranked(challenge, people):
    failed = failed_entry(challenge, people["entrant"])
    ranked = scored_entry(challenge, people["entrant"], 60.0)
    assert client_for(people["other"]).get(f"/submissions/{failed.pk}/").status_code == 404
    assert client_for().get(f"/submissions/{failed.pk}/").status_code == 404
    assert client_for(people["organizer"]).get(f"/submissions/{failed.pk}/").status_code == 200
    assert client_for(people["judge"]).get(f"/submissions/{ranked.pk}/").status_code == 200


def test_leaderboard_page_hides_names_from_the_challenges_judges(challenge, people):
    automatic_only(challenge)  # no human judging (alpha 0): the board is not blind while open
    scored_entry(challenge, people["entrant"], 70.0, title="Chorale")
    judge_html = client_for(people["judge"]).get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert "(hidden during judging)" in judge_html
    assert "<td>ada</td>" not in judge_html
    other_html = client_for(people["other"]).get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert "<td>ada</td>" in other_html


def test_submission_page_explains_metrics_by_the_reference_range_and_marks_the_least_real_passages(challenge, people):
    """Issue 23 item 6: the parts the scorer stores (reference 10th-90th percentiles, the lowest realness windows)
    show on the entry page: each metric's range and direction, the sentence, the marks on the piano roll."""
    from evaluation.automatic import realness_passages
    from evaluation.services.score_store import score_store
    from submissions.services.lifecycle import submission_mark_scored, submission_mark_scoring

    entry = new_entry(challenge, people["entrant"], title="Marked")
    submission_mark_scoring(submission_id=entry.pk)
    passages = realness_passages([0.9, 0.04, 0.8, 0.85], [(0, 8), (4, 12), (8, 16), (12, 20)], 20.0)
    metric = {"value": 3.0, "mean": 14.0, "std": 4.0, "closeness": 0.2, "p10": 9.0, "p90": 19.0, "direction": "below"}
    score_store(submission_id=entry.pk, automatic=40.0, style=0.4, realness=0.4,
                parts={"metrics": {"pitch_range": metric}, "realness_passages": passages, "n_outputs": 1,
                       "weights": {"style": 1.0, "realness": 1.0}})  # fmt: skip
    submission_mark_scored(submission_id=entry.pk)
    Rendering.objects.create(submission=entry, audio="renderings/e/m.mp3", pianoroll="renderings/e/m.png")

    html = client_for(people["entrant"]).get(f"/submissions/{entry.pk}/").content.decode()
    assert "reference 10-90 %: 9-19, below the range" in html
    assert "The passages least like the style are 0:04-0:12 (realness 0.04)" in html
    assert html.count('class="passage-mark"') == 1
    assert "left:25.2%" in html  # 7 % margin + 91 % x 4/20 s
