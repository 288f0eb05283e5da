"""The HTTP API and the page: `create_app` builds the FastAPI application over a models folder. Every failure
answers ``{"detail": "<one line: the problem and the fix>"}``; docs/serve.md lists the status codes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from ..errors import BundleError, VowelsError
from ..limits import SERVE_MAX_BYTES, SERVE_MAX_JOBS, SERVE_MAX_MODELS, SERVE_MAX_RECORDINGS
from . import schemas
from .guard import AccessMiddleware
from .jobs import MAX_EPOCHS, MIN_TAKES, Busy, Job, TrainingJobs
from .name_checks import check_name
from .store import MAX_TAKES, Conflict, Full, ModelStore, NotFound
from .uploads import BODY_SECONDS, MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS, BodyLimit, features_of_upload, saved_upload

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
_STATUS = ((NotFound, 404), (Conflict, 409), (BundleError, 409), (Busy, 429), (Full, 507))
"""The HTTP status of each library error a request can cause; any other `VowelsError` is bad input, 422."""


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _field(location: tuple[Any, ...]) -> str:
    where = {"query": "query parameter", "path": "path part", "body": "body field", "header": "header"}
    if location[:2] == ("body", "file"):
        return "form field 'file'"
    if len(location) >= 2:
        return f"{where.get(str(location[0]), str(location[0]))} '{'.'.join(map(str, location[1:]))}'"
    return "the request body" if location == ("body",) else " ".join(map(str, location))


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's list of validation errors as one line: each field, what is wrong, what was sent."""
    parts = []
    for error in exc.errors():
        where, message = _field(tuple(error.get("loc", ()))), str(error.get("msg", "invalid"))
        if error.get("type") == "missing" and where == "form field 'file'":
            parts.append("no recording: send it as the multipart form field 'file' (curl -F file=@take.wav)")
        elif error.get("type") == "missing":
            parts.append(f"{where} is required")
        else:
            value = error.get("input")
            got = f"; got {value!r}" if isinstance(value, (str, int, float)) and len(repr(value)) < 80 else ""
            parts.append(f"{where}: {message[0].lower()}{message[1:]}{got}")
    return "; ".join(parts) + "."


def create_app(
    models: str | os.PathLike[str],
    *,
    default_model: str | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_upload_seconds: float = MAX_UPLOAD_SECONDS,
    allowed_hosts: Sequence[str] | None = None,
    token: str | None = None,
    max_models: int = SERVE_MAX_MODELS,
    max_recordings: int = SERVE_MAX_RECORDINGS,
    max_bytes: int = SERVE_MAX_BYTES,
    max_jobs: int = SERVE_MAX_JOBS,
    body_seconds: float = BODY_SECONDS,
) -> FastAPI:
    """The web application: the page at ``/``, the API under ``/api``, its schema at ``/openapi.json``.

    Parameters
    ----------
    models : path-like
        The models folder, one bundle folder ``models/<name>`` per model; created if missing.
    default_model : str, default=None
        The model the page opens with; None: the first usable one.
    max_upload_bytes, max_upload_seconds : int, float
        Largest request body in bytes (else 413) and longest recording in s (else 422).
    allowed_hosts : sequence of str, default=None
        Host names answered besides IP addresses (others 403); None answers to any.
    token : str, default=None
        The token every request must show (`vowels.serve.guard`); None asks for none.
    max_models, max_recordings, max_bytes, max_jobs : int
        Limits of the models folder (`ModelStore`; beyond them, 507) and of the jobs queued or running (429).
    body_seconds : float
        Longest a request body may take to arrive, in s (else 408).

    Returns
    -------
    fastapi.FastAPI
        Its ``state.jobs`` (`vowels.serve.jobs.TrainingJobs`) runs the trainings.
    """
    store = ModelStore(models, max_models=max_models, max_recordings=max_recordings, max_bytes=max_bytes)
    if default_model is not None:
        check_name(default_model, what="model")
    jobs = TrainingJobs(store, max_jobs=max_jobs)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close(cancel=True)  # on Ctrl+C or SIGTERM: stop the training, so its scratch copy is removed

    app = FastAPI(
        lifespan=lifespan,
        title="vowels",
        summary="Enrol speakers and identify who is speaking, from recordings.",
        description='The HTTP API of `vowels serve`. Every error answers `{"detail": "..."}` in one line.',
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: the page works offline, the schema is /openapi.json
        redoc_url=None,
        responses={
            **{status: {"model": schemas.Problem} for status in (404, 409, 413)},
            422: {"model": schemas.Problem, "description": "bad input; `detail` says which and why"},
        },
    )
    enrol = APIRouter(tags=["enrol"])
    app.state.store, app.state.jobs = store, jobs
    app.add_middleware(BodyLimit, limit=max_upload_bytes, seconds=body_seconds)
    app.add_middleware(AccessMiddleware, allowed_hosts=allowed_hosts, token=token)

    @app.exception_handler(VowelsError)
    async def vowels_error(request: Request, exc: VowelsError) -> JSONResponse:
        message = store.private(str(exc)).replace("pass force=True", 'send "force": true')
        return _problem(next((status for kind, status in _STATUS if isinstance(exc, kind)), 422), message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem(422, _validation_message(exc))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        return _problem(500, f"internal error ({type(exc).__name__}); the server's log has the details.")

    def found(job: Job | None, job_id: str) -> Job:
        if job is None:
            raise NotFound(f"no training job {job_id!r} on this server; list them with GET /api/jobs.")
        return job

    @enrol.get("/api/models/{model}/enrolment", response_model=schemas.Enrolment)
    def get_enrolment(model: str) -> schemas.Enrolment:
        """The speakers recorded so far for training `model`, and whether it can be trained."""
        speakers = store.enrolment(model)
        short = sorted(name for name, n in speakers.items() if n < MIN_TAKES)
        problem = None
        if len(speakers) < 2:
            problem = f"record at least 2 speakers (so far {len(speakers)})."
        elif short:
            problem = f"record at least {MIN_TAKES} recordings of each speaker; not yet: {', '.join(short)}."
        return schemas.Enrolment(
            model=model,
            speakers=[schemas.EnrolledSpeaker(name=name, recordings=n) for name, n in speakers.items()],
            ready=problem is None,
            problem=problem,
            model_exists=store.exists(model),
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/models", response_model=schemas.Models, tags=["models"])
    def list_models() -> dict:
        """Every model in the models folder, with its speakers and threshold; the upload limits."""
        described = [store.describe(name) for name in store.names()]
        usable = [m["name"] for m in described if m["usable"]]
        default = default_model if default_model in usable else (usable[0] if usable else None)
        limits = schemas.Limits(
            max_upload_bytes=max_upload_bytes,
            max_upload_seconds=max_upload_seconds,
            min_recordings_per_speaker=MIN_TAKES,
            max_recordings_per_speaker=MAX_TAKES,
            max_epochs=MAX_EPOCHS,
        )
        return {"models": described, "default": default, "limits": limits}

    @app.get("/api/models/{model}", response_model=schemas.Model, tags=["models"])
    def get_model(model: str) -> dict:
        """One model: its speakers, threshold and features, or why it cannot be used."""
        return store.describe(model)

    @app.post("/api/models/{model}/classify", response_model=schemas.Classification, tags=["identify"])
    def classify(
        model: str,
        file: Annotated[UploadFile, File(description="a recording: WAV, FLAC, OGG, ... as libsndfile reads")],
        threshold: Annotated[
            float | None, Query(ge=-1, le=1, description="answer 'unknown' below this score (default: the model's)")
        ] = None,
        figure: Annotated[bool, Query(description="also draw the recording figure (slower)")] = False,
    ) -> dict:
        """Name the speaker of an uploaded recording, or answer 'unknown'; every speaker's score."""
        from .identify import identify

        classifier = store.load(model)
        with saved_upload(file.file.read(), file.filename) as (path, name):
            answer = identify(
                classifier, path, name=name, threshold=threshold, max_seconds=max_upload_seconds, figure=figure
            )
        return {"file": name, "model": model, **answer}

    @enrol.post("/api/models/{model}/enrolment/{speaker}", response_model=schemas.Enrolment, status_code=201)
    def add_recording(
        model: str, speaker: str, file: Annotated[UploadFile, File(description="one recording of the speaker")]
    ) -> schemas.Enrolment:
        """Keep one recording of `speaker` for training `model`, after checking it is usable audio."""
        from ..features import FeatureConfig

        check_name(model, what="model")
        check_name(speaker, what="speaker")
        data = file.file.read()
        with saved_upload(data, file.filename) as (path, name):
            features_of_upload(path, FeatureConfig(), name=name, max_seconds=max_upload_seconds)
            store.add_take(model, speaker, data, path.suffix)
        return get_enrolment(model)

    @enrol.delete("/api/models/{model}/enrolment/{speaker}", response_model=schemas.Enrolment)
    def remove_speaker(model: str, speaker: str) -> schemas.Enrolment:
        """Forget the recordings of `speaker` for training `model`; refused while `model` is being trained."""
        running = jobs.active(model)
        if running is not None and running.state == "running":
            raise Conflict(
                f"model {model!r} is being trained on the recordings of {speaker!r} (job {running.id}); wait for it to "
                f"finish or cancel it (DELETE /api/jobs/{running.id}), then remove the speaker."
            )
        store.remove_speaker(model, speaker)
        return get_enrolment(model)

    @enrol.post("/api/models/{model}/train", response_model=schemas.JobStatus, status_code=202)
    def train(model: str, request: schemas.TrainRequest | None = None) -> dict:
        """Start training `model` on its enrolled recordings, in the background; poll the job for progress."""
        request = request or schemas.TrainRequest()
        state = get_enrolment(model)
        if not state.ready:
            raise Conflict(f"model {model!r} cannot be trained yet: {state.problem}")
        running = jobs.active(model)
        if running is not None:
            raise Conflict(f"model {model!r} is already being trained (job {running.id}); wait for it to finish.")
        store.check_space()
        if state.model_exists and not request.force:
            raise Conflict(f'model {model!r} already exists; send "force": true to replace it, or choose a new name.')
        return jobs.submit(model, **request.model_dump()).to_dict()

    @enrol.get("/api/jobs", response_model=list[schemas.JobStatus])
    def list_jobs() -> list[dict]:
        """Every training job of this server's run, oldest first."""
        return [job.to_dict() for job in jobs.all()]

    @enrol.get("/api/jobs/{job_id}", response_model=schemas.JobStatus)
    def get_job(job_id: str) -> dict:
        """A training job: its state, progress, and the model it saved or why it failed."""
        return found(jobs.get(job_id), job_id).to_dict()

    @enrol.delete("/api/jobs/{job_id}", response_model=schemas.JobStatus)
    def cancel_job(job_id: str) -> dict:
        """Cancel a training job: a queued one at once, a running one at its next epoch (the model is not changed)."""
        job = found(jobs.cancel(job_id), job_id)
        if job.state in ("succeeded", "failed"):
            raise Conflict(f"training job {job_id} has already {job.state}; there is nothing to cancel.")
        return job.to_dict()

    app.include_router(enrol)
    return app
