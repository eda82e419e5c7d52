"""``cudi enhance`` for video inputs (called by :mod:`cudi_jax.cli` when every input is
a video file): one output video per input, a progress bar in frames and frames per
second, one line per failure naming the file, the summary on stderr."""
import os
import sys
import time

from cudi_jax import progress
from cudi_jax.video import io as vio

PROG = "cudi"


def _say(message, bar=None):
  progress.write(message, bar)


def output_path(source, output, suffix, single):
  """Where a video goes: ``output`` itself when it names a video file and there is
  one input; otherwise ``output/NAME{suffix}.EXT`` (the input's extension)."""
  if single and vio.is_video_path(output) and not os.path.isdir(output):
    return output
  stem, ext = os.path.splitext(os.path.basename(source))
  return os.path.join(output, stem + suffix + ext)


def enhance_main(args, model, exposure, exposure_map=None):
  """Enhances ``args.inputs`` (video files). exposure: the parsed --exposure
  ('auto', a name or a number); exposure_map: an already read map image (array) or
  None; ``args.exposure_map`` naming a video means a per-frame map video."""
  from cudi_jax.io import atomic
  from cudi_jax.video.enhancer import VideoFrameError
  from cudi_jax.video.pipeline import enhance_video
  try:
    vio.import_av()
  except vio.VideoError as err:
    print(f"{PROG}: error: {err}", file=sys.stderr)
    return 1
  start, started = time.perf_counter(), time.time()
  exposure_video = None
  if args.exposure_map and vio.is_video_path(args.exposure_map):
    exposure_video = args.exposure_map
  setting = exposure_map if exposure_map is not None else exposure
  show = progress.enabled(args.quiet, args.no_progress)
  listing = not args.quiet and (args.verbose or not progress.on_terminal(sys.stdout))
  done = skipped = failed = 0
  single = len(args.inputs) == 1
  folders = set()
  for source in args.inputs:
    target = output_path(source, args.output, args.suffix, single)
    folder = os.path.dirname(os.path.abspath(target))
    if folder not in folders:
      folders.add(folder)
      atomic.remove_stale_temporaries(folder, started - atomic.STALE_TEMPORARY_AGE)
    name = progress.show_name(source)
    if not os.path.isfile(source):
      failed += 1
      _say(f"{PROG}: error: {name}: no such file")
      continue
    if os.path.exists(target) and os.path.samefile(target, source):
      failed += 1
      _say(f"{PROG}: error: {name}: output would overwrite an input (choose another -o "
           f"or a --suffix)")
      continue
    bar = None
    try:
      frames = 0
      try:
        with vio.VideoReader(source, copy_streams=False) as probe:
          frames = probe.frames
      except vio.VideoError:
        pass  # reported by the run below
      bar = progress.bar(frames or None, os.path.basename(source), "frame", enabled=show)
      last = [0]

      def advance(count, bar=bar, last=last):
        if bar is not None:
          bar.update(count - last[0])
          last[0] = count

      result = enhance_video(model, source, target, exposure=setting,
                             exposure_video=exposure_video, color=args.color,
                             codec=args.codec, crf=vio.DEFAULT_CRF if args.crf is None
                             else args.crf, overwrite=args.overwrite, progress=advance,
                             cell=None if args.cells == "auto" else int(args.cells))
      done += 1
      if bar is not None:
        bar.close()
        bar = None
      if listing:
        print(f"{name} -> {progress.show_name(target)}", file=sys.stdout)
      if not args.quiet:
        _say(f"{PROG}: {name}: {result.frames} frames in {result.seconds:.1f} s "
             f"({result.fps:.1f} frames/s)")
    except vio.VideoOutputExistsError:
      skipped += 1
      if not args.quiet:
        _say(f"{PROG}: skipped {name}: {progress.show_name(target)} exists (use --overwrite)",
             bar)
    except (vio.VideoError, VideoFrameError, ValueError, OSError, MemoryError) as err:
      failed += 1
      reason = progress.failure_reason(err)
      if reason.startswith(f"{source}: "):  # the file is named once, at the front
        reason = reason[len(source) + 2:]
      _say(f"{PROG}: error: {name}: {reason}", bar)
    finally:
      if bar is not None:
        bar.close()
  progress.summary(PROG, done, skipped, failed, time.perf_counter() - start)
  return 1 if failed else 0
