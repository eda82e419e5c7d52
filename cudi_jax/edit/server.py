"""The editor's ASGI app (Starlette) and a way to serve it (uvicorn).

Routes (all state lives in one :class:`~cudi_jax.edit.session.EditSession`):

    GET  /                     the page (static/index.html); /static/editor.{js,css}
    GET  /api/info             the photo, its preview size, outputs, state (JSON)
    GET  /api/original.jpg     the photo at preview size
    GET  /api/preview.jpg      the enhanced preview of the current state
    GET  /api/map.png          the requested exposure map at preview size (8-bit gray)
    POST /api/stroke           {"stroke", "points", "radius", "strength", "hardness",
                                "mode", "done"} -> the new preview
    POST /api/setting          {"setting": "auto" | 0.6 | ...} -> the new preview
    POST /api/undo, /api/redo, /api/clear                     -> the new preview
    POST /api/save             {"overwrite": false} -> {"output", "map_output"};
                               409 {"error", "exists"} when a file would be replaced

Previews come back as JPEG with the state (JSON) in the ``X-Cudi-State`` header.
Every error is a JSON ``{"error": message}`` with a 4xx/5xx status, and the server
goes on. Requests must name the host the server was started for (against DNS
rebinding), POSTs must be JSON from the page's own origin, and bodies are limited to
:data:`MAX_BODY` bytes.
"""
import asyncio
import json
import math
import os
import socket
import sys
import threading
import traceback

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from cudi_jax.edit import brush
from cudi_jax.edit import session as session_lib
from cudi_jax.io import errors as io_errors

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
#: The only files served (the page's own); name -> media type.
PAGE_FILES = {"index.html": "text/html; charset=utf-8",
              "editor.js": "text/javascript; charset=utf-8",
              "editor.css": "text/css; charset=utf-8"}
#: Largest request body (a stroke update is a few kB).
MAX_BODY = 256 * 1024
#: Most points in one stroke request.
MAX_POINTS = 4096
#: Host names served when listening on loopback.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


class RequestError(Exception):
  """A request that cannot be served: a message and an HTTP status."""

  def __init__(self, message, status=400):
    super().__init__(message)
    self.status = status


async def _json_body(request):
  """The request's JSON object; RequestError for anything else."""
  origin = request.headers.get("origin")
  if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
    raise RequestError("cross-origin requests are not accepted", 403)
  if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
    raise RequestError("the request body must be JSON (Content-Type: application/json)", 415)
  length = request.headers.get("content-length")
  if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
    raise RequestError(f"request body too large (limit {MAX_BODY} bytes)", 413)
  body = bytearray()
  async for chunk in request.stream():
    body += chunk
    if len(body) > MAX_BODY:
      raise RequestError(f"request body too large (limit {MAX_BODY} bytes)", 413)
  if not body:
    return {}
  try:
    data = json.loads(bytes(body))
  except (ValueError, UnicodeDecodeError):
    raise RequestError("the request body is not valid JSON") from None
  if not isinstance(data, dict):
    raise RequestError("the request body must be a JSON object")
  return data


def _number(data, key, lo, hi, default=None):
  value = data.get(key, default)
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    raise RequestError(f"{key!r} must be a number")
  value = float(value)
  if not (math.isfinite(value) and lo <= value <= hi):
    raise RequestError(f"{key!r} must be between {lo:g} and {hi:g}, got {value:g}")
  return value


def _stroke_args(data, shape):
  stroke = data.get("stroke")
  if isinstance(stroke, bool) or not isinstance(stroke, int):
    raise RequestError("'stroke' must be an integer id")
  points = data.get("points")
  if not isinstance(points, list) or len(points) > MAX_POINTS:
    raise RequestError(f"'points' must be a list of at most {MAX_POINTS} [x, y] pairs")
  h, w = shape
  size = max(h, w)
  parsed = []
  for p in points:
    if (not isinstance(p, (list, tuple)) or len(p) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
        or not all(math.isfinite(v) and -size <= v <= 2 * size for v in p)):
      raise RequestError("each point must be [x, y], numbers near the image")
    parsed.append((float(p[0]), float(p[1])))
  mode = data.get("mode")
  if mode not in brush.MODES:
    raise RequestError(f"'mode' must be one of {', '.join(brush.MODES)}")
  done = data.get("done", False)
  if not isinstance(done, bool):
    raise RequestError("'done' must be true or false")
  return dict(stroke_id=stroke, points=parsed, radius=_number(data, "radius", 0.5, 2 * size),
              strength=_number(data, "strength", 0.0, 1.0),
              hardness=_number(data, "hardness", 0.0, 1.0), mode=mode, done=done)


def create_app(session, allowed_hosts=LOOPBACK_HOSTS):
  """The ASGI app serving ``session``. allowed_hosts: Host header names accepted
  (None: any)."""

  def image_response(data, media_type):
    return Response(data, media_type=media_type,
                    headers={"Cache-Control": "no-store",
                             "X-Cudi-State": json.dumps(session.state())})

  def locked(fn, *args, **kwargs):
    with session.lock:
      return fn(*args, **kwargs)

  def edit_then_preview(fn, *args, **kwargs):
    with session.lock:
      fn(*args, **kwargs)
      return session.preview_jpeg()

  def page_file(name):
    return FileResponse(os.path.join(STATIC, name), media_type=PAGE_FILES[name],
                        headers={"Cache-Control": "no-store"})

  async def index(request):
    return page_file("index.html")

  async def static(request):
    name = request.path_params["name"]
    if name not in PAGE_FILES or name == "index.html":
      raise RequestError("not found", 404)
    return page_file(name)

  async def info(request):
    return JSONResponse(await run_in_threadpool(locked, session.info))

  async def original(request):
    data = await run_in_threadpool(locked, session.original_jpeg)
    return image_response(data, "image/jpeg")

  async def preview(request):
    data = await run_in_threadpool(locked, session.preview_jpeg)
    return image_response(data, "image/jpeg")

  async def exposure_map(request):
    data = await run_in_threadpool(locked, session.map_png)
    return image_response(data, "image/png")

  async def stroke(request):
    args = _stroke_args(await _json_body(request), session.shape)
    data = await run_in_threadpool(edit_then_preview, session.paint, **args)
    return image_response(data, "image/jpeg")

  async def setting(request):
    data = await _json_body(request)
    if "setting" not in data:
      raise RequestError("'setting' is missing")
    try:
      value = session_lib.parse_setting(data["setting"], session.file_map is not None)
    except ValueError as err:
      raise RequestError(str(err)) from None
    data = await run_in_threadpool(edit_then_preview, session.set_setting, value)
    return image_response(data, "image/jpeg")

  def simple(method):
    async def endpoint(request):
      await _json_body(request)
      data = await run_in_threadpool(edit_then_preview, method)
      return image_response(data, "image/jpeg")
    return endpoint

  async def save(request):
    data = await _json_body(request)
    overwrite = data.get("overwrite", False)
    if not isinstance(overwrite, bool):
      raise RequestError("'overwrite' must be true or false")
    try:
      result = await run_in_threadpool(locked, session.save, overwrite)
    except session_lib.SaveExistsError as err:
      return JSONResponse({"error": f"{' and '.join(err.paths)} already "
                                    f"{'exists' if len(err.paths) == 1 else 'exist'}",
                           "exists": err.paths}, status_code=409)
    except (io_errors.ImageIOError, ValueError, OSError) as err:
      raise RequestError(f"saving failed: {str(err).splitlines()[0] if str(err) else err}",
                         500) from None
    return JSONResponse(result)

  async def request_error(request, exc):
    return JSONResponse({"error": str(exc)}, status_code=exc.status)

  async def http_error(request, exc):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

  async def server_error(request, exc):
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"},
                        status_code=500)

  routes = [
      Route("/", index),
      Route("/api/info", info),
      Route("/api/original.jpg", original),
      Route("/api/preview.jpg", preview),
      Route("/api/map.png", exposure_map),
      Route("/api/stroke", stroke, methods=["POST"]),
      Route("/api/setting", setting, methods=["POST"]),
      Route("/api/undo", simple(session.undo), methods=["POST"]),
      Route("/api/redo", simple(session.redo), methods=["POST"]),
      Route("/api/clear", simple(session.clear), methods=["POST"]),
      Route("/api/save", save, methods=["POST"]),
      Route("/static/{name}", static),
  ]
  middleware = []
  if allowed_hosts is not None:
    middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
  return Starlette(routes=routes, middleware=middleware,
                   exception_handlers={RequestError: request_error,
                                       HTTPException: http_error,
                                       Exception: server_error})


# --------------------------------------------------------------------------- serving


def bind(host, port):
  """A listening TCP socket on (host, port); port 0 picks a free one."""
  family = socket.AF_INET6 if ":" in host else socket.AF_INET
  sock = socket.socket(family, socket.SOCK_STREAM)
  try:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
  except OSError:
    sock.close()
    raise
  return sock


def url_for(sock):
  host, port = sock.getsockname()[:2]
  if ":" in host:
    host = f"[{host}]"
  elif host == "0.0.0.0":
    host = "127.0.0.1"
  return f"http://{host}:{port}/"


def uvicorn_server(app):
  import uvicorn
  config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
  return uvicorn.Server(config)


class BackgroundServer:
  """Serves an app from a thread on loopback (tests, benchmarks, screenshots):

      with BackgroundServer(app) as url: ...
  """

  def __init__(self, app, host="127.0.0.1", port=0):
    self.sock = bind(host, port)
    self.url = url_for(self.sock)
    self.server = uvicorn_server(app)
    self.thread = threading.Thread(target=self._run, daemon=True)

  def _run(self):
    asyncio.run(self.server.serve(sockets=[self.sock]))

  def __enter__(self):
    self.thread.start()
    while not self.server.started and self.thread.is_alive():
      threading.Event().wait(0.01)
    return self.url

  def __exit__(self, *exc):
    self.server.should_exit = True
    self.thread.join(10)
    self.sock.close()
    return False
