"""Training jobs, run one at a time on a background thread while classification goes on: each copies the model's
enrolled recordings, trains on them and saves a bundle; its progress is the share of every network's epochs."""

from __future__ import annotations

import itertools
import logging
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import VowelsError
from ..limits import SERVE_MAX_JOBS

if TYPE_CHECKING:
    from ..progress import EpochStatus
    from .store import ModelStore

__all__ = ["MAX_EPOCHS", "MIN_TAKES", "Busy", "Job", "TrainingJobs"]

MIN_TAKES = 3
"""Fewest recordings per speaker to train on: two to learn from and one held out to check."""
MAX_EPOCHS = 500
"""Most training epochs one job may ask for."""
MAX_JOBS_KEPT = 100
"""Finished jobs remembered for ``GET /api/jobs``; older ones are forgotten."""

log = logging.getLogger("vowels.serve")
_ENDED = ("succeeded", "failed", "cancelled")


class Busy(VowelsError):
    """The training queue is full (HTTP 429)."""


class Cancelled(VowelsError):
    """Raised inside a training whose job was cancelled, to stop it at the next epoch."""


@dataclass
class Job:
    """One training job and how far it has got, as ``GET /api/jobs/{id}`` answers (`to_dict`;
    `vowels.serve.schemas.JobStatus` describes the fields)."""

    id: str
    model: str
    epochs: int
    force: bool
    architecture: str = "bilstm"
    state: str = "queued"
    progress: float = 0.0
    stage: str = "waiting to start"
    error: str | None = None
    result: dict | None = None
    warnings: list[str] = field(default_factory=list)
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel: bool = False

    def check_cancel(self) -> None:
        """Stop the training (raise `Cancelled`) when the job has been cancelled."""
        if self.cancel:
            raise Cancelled(f"job {self.id} was cancelled")

    def advance(self, done: int, total: int) -> None:
        """`check_cancel`, then note `done` of `total` as the progress (at most 0.99 until the model is saved)."""
        self.check_cancel()
        self.progress = min(0.99, done / max(total, 1))

    def to_dict(self) -> dict:
        """JSON-ready: what ``GET /api/jobs/{id}`` answers."""
        shown = {k: v for k, v in asdict(self).items() if k not in ("force", "cancel")}
        return {**shown, "progress": round(self.progress, 4)}


def _network_stage(network: int, n_networks: int) -> str:
    """``training network 2 of 7 (calibrating ...)``: which of `RecordingClassifier.fit`'s networks trains."""
    if network == n_networks:
        purpose = "the model saved, on every recording"
    elif network == 1:
        purpose = "measuring accuracy on held-out recordings"
    else:
        purpose = "calibrating the unknown threshold, a speaker left out"
    return f"training network {network} of {n_networks} ({purpose})"


@dataclass
class _Monitor:
    """A `vowels.progress` monitor that turns each network's epochs into the job's progress."""

    job: Job

    def start(self, n_epochs: int, n_batches: int) -> None:
        from ..progress import run_networks

        self.job.check_cancel()
        self.job.stage = _network_stage(*(run_networks() or (1, 1)))

    def update(self, status: EpochStatus, history: object) -> None:
        run = status.run
        self.job.advance(*((run.epochs_done, run.n_epochs) if run else (status.epoch, status.n_epochs)))
        self.job.stage = (
            f"{_network_stage(*((run.network, run.n_networks) if run else (1, 1)))}: epoch "
            f"{status.epoch}/{status.n_epochs}, accuracy {100 * status.accuracy:.0f}%"
        )

    def close(self) -> None:
        """Nothing to release."""


class TrainingJobs:
    """A queue of training jobs for one `ModelStore`, worked through by one background thread."""

    def __init__(self, store: ModelStore, *, max_jobs: int = SERVE_MAX_JOBS) -> None:
        self.store, self.max_jobs = store, max_jobs
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    def get(self, job_id: str) -> Job | None:
        """The job of that id, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every job remembered, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def active(self, model: str) -> Job | None:
        """The queued or running job writing `model`, if any."""
        with self._lock:
            return next((j for j in self._jobs.values() if j.model == model and j.state in ("queued", "running")), None)

    def submit(self, model: str, *, epochs: int, force: bool, architecture: str = "bilstm") -> Job:
        """Queue a training of `model` on its enrolled recordings, with an `architecture` network of
        `vowels.names.RECURRENT`; returns the job at once."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.state not in _ENDED)
            if waiting >= self.max_jobs:
                raise Busy(
                    f"{waiting} training jobs are already queued or running, the most this server takes; wait for "
                    "one to finish or cancel one (DELETE /api/jobs/ID)."
                )
            job = Job(id=str(next(self._ids)), model=model, epochs=epochs, force=force, architecture=architecture)
            self._jobs[job.id] = job
            finished = [j.id for j in self._jobs.values() if j.state in _ENDED]
            for old in finished[: max(0, len(self._jobs) - MAX_JOBS_KEPT)]:
                del self._jobs[old]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="vowels-training", daemon=True)
                self._thread.start()
        self._queue.put(job)
        return job

    def cancel(self, job_id: str) -> Job | None:
        """Cancel job `job_id`: a queued one at once, a running one at its next epoch; None if there is none."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in _ENDED:
                return job
            job.cancel = True
            if job.state == "queued":
                job.state, job.stage, job.finished = "cancelled", "cancelled before it started", time.time()
            else:
                job.stage = "cancelling at the end of this epoch"
            return job

    def close(self, *, cancel: bool = False) -> None:
        """Stop the worker after the job it is on; with `cancel`, cancel that job and every queued one."""
        if cancel:
            for job in self.all():
                self.cancel(job.id)
        self._queue.put(None)
        if cancel and self._thread is not None:
            self._thread.join(timeout=30)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.state != "queued":
                    continue
                job.state, job.started = "running", time.time()
            job.stage = "reading the recordings (and loading TensorFlow, for the first training)"
            try:
                job.result = self._train(job)
                job.state, job.progress, job.stage = "succeeded", 1.0, f"saved model {job.model!r}"
            except Cancelled:
                job.state, job.stage = "cancelled", "cancelled; the model was not changed"
            except VowelsError as exc:  # named without this server's folders: a recording by speaker and file
                message = re.sub(r"\S*vowels-enrolment-[^/\s]+/speakers/", "", str(exc))
                job.state, job.error, job.stage = "failed", self.store.private(message), "failed"
            except Exception as exc:  # a bug: the server goes on, the log keeps the traceback
                log.exception("training job %s failed", job.id)
                job.state, job.stage = "failed", "failed"
                job.error = f"internal error ({type(exc).__name__}); the server's log has the details."
            finally:
                job.finished = time.time()

    def _train(self, job: Job) -> dict:
        from ..progress import monitoring
        from ..recordings import RecordingClassifier
        from ..voiceprints import VoiceprintClassifier

        enrolment = self.store.enrolment(job.model)
        n_speakers, n_takes = len(enrolment), sum(enrolment.values())
        with tempfile.TemporaryDirectory(prefix="vowels-enrolment-") as folder:
            data = self.store.snapshot(job.model, Path(folder) / "speakers")
            if job.architecture == "encoder":
                job.stage = "listening to the recordings with the pretrained speaker encoder"
                model: Any = VoiceprintClassifier().fit(data, progress=job.advance)
            else:
                model = RecordingClassifier(  # a fifth held out, or one recording per speaker if more
                    architecture=job.architecture,
                    max_epochs=job.epochs,
                    validation_fraction=min(0.5, max(0.2, n_speakers / max(n_takes, 1))),
                    mini_batch_size=max(2, min(32, n_takes // 8)),
                    random_state=0,
                    verbose=0,
                )
                with monitoring(_Monitor(job)):
                    model.fit(data)
            job.warnings = [failure.message.replace(f"{data}{os.sep}", "") for failure in model.failures_]
        job.check_cancel()
        job.stage = "saving the model"
        model.save(self.store.path(job.model), force=job.force)
        return self.store.describe(job.model)
