"""Read any video of any recognised dataset layout as plain `VideoLabels`."""

from __future__ import annotations

from annotator.formats import labelme, lvos, lvvis
from annotator.formats.video_labels import VideoLabels
from annotator.video.dataset import Dataset
from annotator.video.folder import FolderSource


def read_video(dataset: Dataset, video: str) -> VideoLabels:
    """Frames, objects and (lazily read) label maps of `video`.

    LV-VIS masks come from the instances JSON; other layouts from the ``Annotations`` PNGs,
    or from labelme JSONs beside the frames when there are no PNGs.
    """
    if dataset.layout == "lvvis" and not dataset.mask_paths(video):
        return lvvis.read_video(dataset, video)
    if not dataset.mask_paths(video):
        jsons = dataset.labelme_paths(video)
        if jsons:
            with dataset.frames(video, cache_bytes=0) as frames:
                names, size = list(frames.names), frames.size
                files = [p.name for p in frames.files] if isinstance(frames, FolderSource) else None
            return labelme.read_video_frames(video, names, size, jsons, files)
    return lvos.read_video(dataset, video)
