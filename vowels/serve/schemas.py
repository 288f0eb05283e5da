"""The shapes of the HTTP API's answers, for its OpenAPI schema (``GET /openapi.json``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from ..names import RECURRENT

__all__ = ["Classification", "Enrolment", "JobStatus", "Model", "Models", "SpeakerScore", "TrainRequest"]


class Problem(BaseModel):
    """Every error: one line naming the problem and what to do."""

    detail: str = Field(examples=["take.wav: silence only (digital silence, below -60 dBFS)."])


class Model(BaseModel):
    """A model bundle in the models folder."""

    name: str
    usable: bool = Field(description="false: the bundle cannot classify recordings; `problem` says why")
    problem: str | None = None
    speakers: list[str] | None = None
    threshold: float | None = Field(default=None, description="score below which the answer is 'unknown'")
    threshold_source: str | None = Field(default=None, description="'calibrated', 'default' or 'given'")
    threshold_note: str | None = Field(default=None, description="the threshold and how it was chosen, in one line")
    scoring: str | None = Field(default=None, description="'open-set' (in [-1, 1]) or 'probability' (in [0, 1])")
    scoring_description: str | None = Field(default=None, description="how a score is computed, in words")
    architecture: str | None = Field(default=None, description="the network: 'bilstm', 'lstm' (forward-only), ...")
    streams: bool | None = Field(default=None, description="forward-only: it may classify a recording as it arrives")
    features: dict | None = None
    n_recordings: int | None = None
    validation_accuracy: float | None = Field(default=None, description="share of held-out recordings named right")
    n_validation: int | None = Field(default=None, description="held-out recordings `validation_accuracy` is of")
    created: str | None = None


class Limits(BaseModel):
    max_upload_bytes: int
    max_upload_seconds: float
    min_recordings_per_speaker: int
    max_recordings_per_speaker: int
    max_epochs: int


class Models(BaseModel):
    """Every model in the models folder, the one the page opens with, and the upload limits."""

    models: list[Model]
    default: str | None
    limits: Limits


class SpeakerScore(BaseModel):
    name: str
    score: float
    probability: float | None = Field(description="the network's; none for a model of the speaker encoder")


class Classification(BaseModel):
    """Who spoke an uploaded recording."""

    file: str
    model: str
    speaker: str = Field(description="an enrolled speaker, or 'unknown' when `score` < `threshold`")
    unknown: bool
    nearest: str = Field(description="the most probable enrolled speaker, even when the answer is 'unknown'")
    score: float
    probability: float | None = Field(description="the network's, of `nearest`; none for a model of the encoder")
    threshold: float
    scoring: str = Field(description="'open-set' (scores in [-1, 1]) or 'probability' (in [0, 1])")
    speakers: list[SpeakerScore] = Field(description="every enrolled speaker, in the model's order")
    figure_png: str | None = Field(default=None, description="with figure=true: the recording figure, base64 PNG")


class EnrolledSpeaker(BaseModel):
    name: str
    recordings: int


class Enrolment(BaseModel):
    """Speakers recorded so far for a model to train, and whether it can be trained."""

    model: str
    speakers: list[EnrolledSpeaker]
    ready: bool = Field(description="at least 2 speakers with enough recordings each")
    problem: str | None = Field(default=None, description="what is missing before training, when not ready")
    model_exists: bool


_IN_WORDS = {
    "encoder": "the pretrained speaker encoder, ready in seconds",
    "bilstm": "bidirectional, most accurate",
    "lstm": "forward-only, answers while you speak",
}
_METHODS = ("encoder", *RECURRENT)
"""The networks a page may train (`vowels.names.RECURRENT`), in the words the Enrol page shows."""


class TrainRequest(BaseModel):
    epochs: int = Field(default=30, ge=1, le=500, description="passes over the recordings for each network trained")
    force: bool = Field(default=False, description="replace an existing model of that name")
    architecture: str = Field(
        default="bilstm",
        description="'encoder' (pretrained, ready in seconds), or the network to train: 'bilstm' or 'lstm'",
        json_schema_extra={"enum": list(_METHODS)},
    )

    @field_validator("architecture")
    @classmethod
    def _recurrent(cls, value: str) -> str:
        if value not in _METHODS:
            choices = " or ".join(f"'{name}' ({_IN_WORDS.get(name, name)})" for name in _METHODS)
            raise PydanticCustomError("architecture", "Input should be {choices}", {"choices": choices})
        return value


class JobStatus(BaseModel):
    """A training job."""

    id: str
    model: str
    epochs: int
    architecture: str
    state: str = Field(description="queued, running, succeeded, failed or cancelled")
    progress: float = Field(description="share of the training done, 0 to 1")
    stage: str
    error: str | None
    result: Model | None
    warnings: list[str] = Field(default=[], description="what training skipped or could not do, one line each")
    submitted: float
    started: float | None
    finished: float | None
