"""Video: a stateful per-frame enhancer with temporally stable exposure
(:class:`VideoEnhancer`, NumPy only) and file-to-file enhancement through PyAV
(:func:`enhance_video`, the ``[video]`` extra)."""
from cudi_jax.video.enhancer import VideoEnhancer, VideoFrameError
from cudi_jax.video.io import VIDEO_EXTENSIONS, VideoError, is_video_path
from cudi_jax.video.pipeline import VideoResult, enhance_video
from cudi_jax.video.temporal import Smoothing

__all__ = ["VIDEO_EXTENSIONS", "Smoothing", "VideoEnhancer", "VideoError", "VideoFrameError",
           "VideoResult", "enhance_video", "is_video_path"]
