"""tribev2: TRIBE v2 brain-response prediction on the native tribev2-cpp engine.

Upstream's API (facebookresearch/tribev2) without PyTorch::

    from tribev2 import TribeModel
    model = TribeModel.from_pretrained("path/to/model", cache_folder="./cache")
    df = model.get_events_dataframe(video_path="clip.mp4")
    preds, segments = model.predict(events=df)

See docs/python.md.
"""

from ._tribev2 import BrainModel, __version__
from .demo_utils import Segment, TribeModel
from .extractors import audio_features, text_features, video_features
from .plotting import PlotBrain

from .utils import get_hcp_labels, get_hcp_roi_indices, get_roi_names, get_topk_rois, summarize_by_roi

__all__ = [
    "BrainModel",
    "PlotBrain",
    "Segment",
    "TribeModel",
    "__version__",
    "audio_features",
    "get_hcp_labels",
    "get_hcp_roi_indices",
    "get_roi_names",
    "get_topk_rois",
    "summarize_by_roi",
    "text_features",
    "video_features",
]
