"""``cudi edit PHOTO``: the command line of the editor (``main(argv)``).

Parses the options, reads the photo and the weights, then serves the page on
loopback (unless ``--host`` says otherwise) until Ctrl+C. Starlette and uvicorn (the
``[edit]`` extra) are imported only once the options are known to be good.
"""
import argparse
import os
import sys
import threading
import webbrowser

from cudi_jax import progress
from cudi_jax import student_math

PROG = "cudi edit"
DEFAULT_HOST = "127.0.0.1"


def _err(message):
  print(f"{PROG}: error: {message}", file=sys.stderr)


def parser():
  p = argparse.ArgumentParser(
      prog=PROG,
      description="Paint an exposure map on a photo in the browser, with a live preview, "
                  "and save the result and the map.",
      epilog="Save writes OUTPUT (as 'cudi enhance PHOTO --exposure-map MAP' would: same "
             "bit depth, ICC profile and EXIF) and the painted map MAP, a 16-bit grayscale "
             "PNG of the photo's size that --exposure-map accepts; existing files are "
             "replaced only after the page asks. Nothing else is read or written.")
  p.add_argument("photo", metavar="PHOTO", help="the photo to edit")
  p.add_argument("-o", "--output", metavar="FILE",
                 help="where Save writes the result (default: PHOTO_edited.EXT beside "
                      "the photo)")
  p.add_argument("--map-output", metavar="FILE",
                 help="where Save writes the exposure map (default: OUTPUT's name + _map.png)")
  p.add_argument("--exposure-map", metavar="MAP",
                 help="start from this exposure map (a grayscale image, white = 1; e.g. a "
                      "map saved by an earlier edit)")
  p.add_argument("-w", "--weights", metavar="FILE",
                 help="student weights exported by export.py (default: the shipped ones)")
  p.add_argument("--color", choices=student_math.COLOR_MODES, default="natural",
                 help="as for cudi enhance (default natural)")
  p.add_argument("--port", type=int, default=0, metavar="N",
                 help="port to listen on (default: a free one)")
  p.add_argument("--host", default=None, metavar="ADDR",
                 help=f"address to listen on (default {DEFAULT_HOST}, this computer only; "
                      f"another address lets other machines reach the editor)")
  p.add_argument("--preview-size", type=int, default=None, metavar="PX",
                 help="long side of the live preview in pixels (default 1280)")
  p.add_argument("--no-browser", action="store_true",
                 help="do not open the page in the default browser")
  p.add_argument("--threads", type=int, metavar="N", help="worker threads (default: all CPUs)")
  return p


def _same_file(a, b):
  try:
    return os.path.samefile(a, b)
  except OSError:
    return False


def main(argv=None):
  p = parser()
  args = p.parse_args(sys.argv[1:] if argv is None else argv)
  if not 0 <= args.port <= 65535:
    p.error("--port must be between 0 and 65535")
  if args.preview_size is not None and args.preview_size < 16:
    p.error("--preview-size must be at least 16")
  if args.threads is not None and args.threads < 1:
    p.error("--threads must be at least 1")
  from cudi_jax import weights as weights_lib
  from cudi_jax.edit import adapter
  from cudi_jax.edit import session as session_lib
  from cudi_jax.io import encode, errors as io_errors

  photo = args.photo
  if not os.path.isfile(photo):
    _err(f"{progress.show_name(photo)}: no such file")
    return 1
  output, map_output = session_lib.default_outputs(photo)
  if args.output:
    output = args.output
    try:
      encode.format_for(output)
    except io_errors.ImageIOError as err:
      p.error(f"-o {progress.show_name(output)}: {err}")
    map_output = session_lib.map_name_for(output)
  if args.map_output:
    map_output = args.map_output
    if os.path.splitext(map_output)[1].lower() != ".png":
      p.error("--map-output must name a .png file (the map is a 16-bit PNG)")
  for what, path in (("-o", output), ("--map-output", map_output)):
    if os.path.abspath(path) == os.path.abspath(photo) or _same_file(path, photo):
      _err(f"{what} {progress.show_name(path)} would overwrite the photo")
      return 2
    if os.path.isdir(path):
      _err(f"{what} {progress.show_name(path)} is a folder; name a file")
      return 2
  if os.path.abspath(output) == os.path.abspath(map_output):
    _err("the output and the map need different names")
    return 2

  exposure_map = None
  if args.exposure_map:
    try:
      exposure_map = adapter.read_map(args.exposure_map)
    except adapter.MapError as err:
      _err(f"--exposure-map: {err}")
      return 1
  try:
    from cudi_jax.edit import server  # Starlette and uvicorn: the [edit] extra
    import uvicorn  # noqa: F401
  except ImportError as err:
    _err(f"cannot import {getattr(err, 'name', None) or err}: the editor needs the [edit] "
         f"extra (pip install 'cudi-jax[edit]')")
    return 1
  try:
    model = adapter.load_model(args.weights, threads=args.threads)
  except (FileNotFoundError, weights_lib.ExportFormatError) as err:
    _err(str(err))
    return 1
  kwargs = {} if args.preview_size is None else {"preview_size": args.preview_size}
  try:
    session = session_lib.EditSession(model, photo, output, map_output, exposure_map,
                                      color=args.color, **kwargs)
  except io_errors.ImageIOError as err:
    _err(f"{progress.show_name(photo)}: {err}")
    return 1
  except adapter.MapError as err:
    _err(f"--exposure-map: {err}")
    return 1

  host = DEFAULT_HOST if args.host is None else args.host
  try:
    sock = server.bind(host, args.port)
  except OSError as err:
    _err(f"cannot listen on {host} port {args.port}: {err.strerror or err}")
    return 1
  # Loopback: only requests that name this computer (against DNS rebinding); an
  # explicit --host is the user's choice of who may connect.
  allowed = server.LOOPBACK_HOSTS if args.host is None else None
  app = server.create_app(session, allowed_hosts=allowed)
  url = server.url_for(sock)
  print(f"{PROG}: editing {progress.show_name(photo)} "
        f"({session.full_shape[1]}x{session.full_shape[0]}); Save writes "
        f"{progress.show_name(output)} and {progress.show_name(map_output)}", file=sys.stderr)
  print(url, flush=True)
  print(f"{PROG}: serving at {url} (Ctrl+C to stop)", file=sys.stderr, flush=True)
  if not args.no_browser:
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
  try:
    server.uvicorn_server(app).run(sockets=[sock])
  except KeyboardInterrupt:
    pass
  finally:
    sock.close()
  print(f"{PROG}: stopped", file=sys.stderr)
  return 0


if __name__ == "__main__":
  sys.exit(main())
