"""vowels: speaker classification from short voiced sounds, from MATLAB's Japanese Vowels tutorial to recordings.

Heavy libraries load on first use, so ``import vowels`` answers at once and changes nothing outside it;
`hide_tensorflow_logs` keeps TensorFlow's log lines off stderr as the `vowels` command does."""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from .errors import AudioError, BundleError, DataError, NotFittedError, ParameterError, VowelsError

try:
    __version__ = version("vowels")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "AudioError",
    "BundleError",
    "DataError",
    "FeatureConfig",
    "NotFittedError",
    "ParameterError",
    "RecordingClassifier",
    "SpeakerClassifier",
    "TrainingOptions",
    "Utterances",
    "VowelsError",
    "datasets",
    "hide_tensorflow_logs",
]

_LAZY = {
    "FeatureConfig": "vowels.features",
    "RecordingClassifier": "vowels.recordings",
    "SpeakerClassifier": "vowels.classifier",
    "TrainingOptions": "vowels.training",
    "Utterances": "vowels.datasets",
    "datasets": "vowels.datasets",
    "hide_tensorflow_logs": "vowels._logs",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'vowels' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    return module if module.__name__.endswith(name) else getattr(module, name)
