"""Melody Harvest intake: weights + config + model card, checked as docs/design.md section 4 says; every refusal leaves
no row and no file behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from generation.engine.checkpoint import MAX_CHECKPOINT_BYTES
from submissions.models import Submission
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import MODEL_CARD_MIN_WORDS, MODEL_CARD_TOO_SHORT_MESSAGE, submission_create_checkpoint
from tests.submissions.conftest import stored_files, tiny_arcnn_checkpoint

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODEL_CARD = "Trained on the Bach chorales training split for 200 steps on a laptop CPU (two minutes)."


@pytest.fixture
def checkpoint(tmp_path):
    return tiny_arcnn_checkpoint(tmp_path / "ckpt")


def post(client, weights: bytes, config, *, slug="harvest", model_card=MODEL_CARD, config_as_file=True):
    config_text = config if isinstance(config, str) else json.dumps(config)
    fields = {"title": "My model", "accept_licence": "true", "model_card": model_card,
              "checkpoint": SimpleUploadedFile("model.safetensors", weights),
              "config": SimpleUploadedFile("config.json", config_text.encode()) if config_as_file else config_text}
    return client.post(f"/api/challenges/{slug}/submissions/", fields, format="multipart")


@pytest.mark.parametrize("config_as_file", [True, False], ids=["config-file", "config-text"])
def test_valid_checkpoint_is_queued_for_generation(api, harvest, checkpoint, media_root, monkeypatch,
                                                   django_capture_on_commit_callbacks, config_as_file):
    sent = []
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kw: sent.append((name, kw)))
    weights, config = checkpoint
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api("entrant"), weights.read_bytes(), config, config_as_file=config_as_file)
    assert response.status_code == 202, response.content
    submission = Submission.objects.get()
    assert response.json() == {"id": submission.pk, "status": "queued"}
    assert submission.kind == Submission.Kind.CHECKPOINT
    assert submission.checkpoint_config == config
    assert submission.model_card == MODEL_CARD
    assert submission.licence == harvest.entry_licence
    assert submission.checkpoint.read() == weights.read_bytes()
    assert sent == [("submissions.run_checkpoint_entry",
                     {"args": (submission.pk,), "queue": "entries", "countdown": None})]


def _nan_weights(folder: Path, config: dict) -> bytes:
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    state["head.weight"][0, 0, 0, 0] = float("nan")
    save_file(state, str(folder / "nan.safetensors"))
    return (folder / "nan.safetensors").read_bytes()


def _huge_weights(folder: Path, config: dict) -> bytes:
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    name = next(k for k in state if k.endswith("bias"))
    state[name].fill_(3e38)  # finite: the attack
    save_file(state, str(folder / "huge.safetensors"))
    return (folder / "huge.safetensors").read_bytes()


def _deep_header(folder: Path, config: dict) -> bytes:
    header = b"[" * 100_001 + b"]" * 100_001
    return len(header).to_bytes(8, "little") + header


def _pickled_weights(folder: Path, config: dict) -> bytes:
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(str(folder / "model.safetensors")), folder / "model.pt")
    return (folder / "model.pt").read_bytes()


def _wrong_dtype(folder: Path, config: dict) -> bytes:
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    state = {k: (v.double() if v.is_floating_point() else v) for k, v in state.items()}
    save_file(state, str(folder / "f64.safetensors"))
    return (folder / "f64.safetensors").read_bytes()


CASES = [
    ("garbage", lambda f, c: b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!", None, 422, "bad_header"),
    ("pickle", _pickled_weights, None, 422, "pickle_refused"),
    ("nan", _nan_weights, None, 422, "not_finite"),
    ("huge", _huge_weights, None, 422, "too_large_values"),
    ("deep-header", _deep_header, None, 422, "bad_header"),
    ("dtype", _wrong_dtype, None, 422, "dtype_mismatch"),
    ("shape", None, {"base_channels": 8, "max_channels": 8}, 422, "shape_mismatch"),
    ("bounds", None, {"levels": 9}, 422, "bad_config"),
    ("unknown-field", None, {"dropout": 0.1}, 422, "bad_config"),
    ("architecture", None, {"__architecture__": "wavenet"}, 422, "unknown_architecture"),
    ("discriminator", None, {"__architecture__": "discriminator"}, 422, "not_a_generator"),
    ("not-json", None, "{not json", 422, "bad_config"),
    ("not-object", None, "[1, 2]", 422, "bad_config"),
]


@pytest.mark.parametrize(("case", "make_weights", "config_change", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_checkpoint_leaves_no_row_and_no_file(api, harvest, checkpoint, media_root, case, make_weights,
                                                  config_change, status, code):
    weights, config = checkpoint
    data = make_weights(weights.parent, config) if make_weights else weights.read_bytes()
    if isinstance(config_change, str):
        config = config_change
    elif config_change:
        config = json.loads(json.dumps(config))
        if "__architecture__" in config_change:
            config["architecture"] = config_change["__architecture__"]
        else:
            config["config"].update(config_change)
    response = post(api("entrant"), data, config)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(("model_card", "missing", "code"), [
    ("", None, "model_card_required"),
    ("a fine model", None, "model_card_required"),
    (MODEL_CARD, "config", "config_required"),
])
def test_model_card_and_config_are_required(api, harvest, checkpoint, media_root, model_card, missing, code):
    weights, config = checkpoint
    fields = {"title": "M", "accept_licence": "true", "model_card": model_card,
              "checkpoint": SimpleUploadedFile("model.safetensors", weights.read_bytes())}
    if missing != "config":
        fields["config"] = SimpleUploadedFile("config.json", json.dumps(config).encode())
    response = api("entrant").post("/api/challenges/harvest/submissions/", fields, format="multipart")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    if code == "model_card_required":
        assert response.json()["error"]["message"] == MODEL_CARD_TOO_SHORT_MESSAGE.format(words=MODEL_CARD_MIN_WORDS)
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_oversized_checkpoint_is_413_before_it_is_read(users, harvest, checkpoint, media_root, tmp_path):
    """A sparse file one byte over 200 MiB (no disk used): refused on its size alone."""
    big = tmp_path / "big.safetensors"
    with big.open("wb") as fh:
        fh.truncate(MAX_CHECKPOINT_BYTES + 1)
    _, config = checkpoint
    with big.open("rb") as fh, pytest.raises(EntryRefusedError) as exc:
        submission_create_checkpoint(
            challenge=harvest, entrant=users["entrant"], title="Huge", licence_accepted=True, model_card=MODEL_CARD,
            checkpoint_file=UploadedFile(fh, name="model.safetensors", size=MAX_CHECKPOINT_BYTES + 1), config=config,
        )
    assert (exc.value.status, exc.value.code) == (413, "too_large")
    assert "209,715,200" in exc.value.message
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_oversized_config_is_413(api, harvest, checkpoint, media_root):
    weights, config = checkpoint
    config = {**config, "trained_on": "x" * 70_000}
    response = post(api("entrant"), weights.read_bytes(), config)
    assert response.status_code == 413
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_entry_page_takes_a_checkpoint(users, harvest, checkpoint, media_root):
    from django.test import Client

    from tests.conftest import TEST_PASSWORD

    weights, config = checkpoint
    client = Client()
    assert client.login(username="ella", password=TEST_PASSWORD)
    fields = {"title": "Via the page", "description": "", "accept_licence": "on", "model_card": MODEL_CARD,
              "checkpoint": SimpleUploadedFile("model.safetensors", weights.read_bytes()),
              "config": SimpleUploadedFile("config.json", json.dumps(config).encode())}
    response = client.post("/challenges/harvest/submit/", fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Submission.objects.get().checkpoint_config == config
    fields["config"] = SimpleUploadedFile("config.json", b'{"architecture": "discriminator", "config": {}}')
    fields["checkpoint"] = SimpleUploadedFile("model.safetensors", weights.read_bytes())
    refused = client.post("/challenges/harvest/submit/", fields)
    assert refused.status_code == 422
    assert "does not generate music" in refused.content.decode()
    assert Submission.objects.count() == 1


def test_a_request_over_5_mib_with_config_as_a_file_part_is_accepted(api, harvest, checkpoint, media_root,
                                                                     monkeypatch):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE every part is a temporary file on disk: this was a 500 (`cannot pickle
    '_io.BufferedRandom'` when the view copied the request data)."""
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kw: None)
    weights, config = checkpoint
    fields = {"title": "My model", "accept_licence": "true", "model_card": MODEL_CARD,
              "checkpoint": SimpleUploadedFile("model.safetensors", weights.read_bytes()),
              "config": SimpleUploadedFile("config.json", json.dumps(config).encode()),
              "notes": SimpleUploadedFile("notes.bin", b"\0" * (6 * 1024 * 1024))}
    response = api("entrant").post("/api/challenges/harvest/submissions/", fields, format="multipart")
    assert response.status_code == 202, response.content
    assert Submission.objects.get().checkpoint_config == config


DEEP = '{"architecture": "arcnn", "config": ' + "[" * 10_000 + "]" * 10_000 + "}"


@pytest.mark.parametrize("config_as_file", [True, False], ids=["config-file", "config-text"])
@pytest.mark.parametrize(("config_text", "status", "code"), [
    (DEEP, 422, "bad_config"),
    ('{"architecture": "arcnn", "config": {}, "metrics": {"pad": "' + "x" * 70_000 + '"}}', 413, "too_large"),
    ("\ufeff" + "{" * 20 + "}" * 20, 422, "bad_config"),
], ids=["nested-10000-deep", "70-kb", "bom-and-nesting"])
def test_any_config_is_refused_with_a_reason_not_a_500(api, harvest, checkpoint, media_root, config_as_file,
                                                       config_text, status, code):
    weights, _ = checkpoint
    response = post(api("entrant"), weights.read_bytes(), config_text, config_as_file=config_as_file)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_a_config_text_field_over_the_request_limit_is_413(api, harvest, checkpoint, media_root):
    weights, _ = checkpoint
    response = post(api("entrant"), weights.read_bytes(), "x" * (6 * 1024 * 1024), config_as_file=False)
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "too_large"
    assert not Submission.objects.exists()
