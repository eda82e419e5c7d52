"""How fast ``cudi edit`` answers a brush stroke (a benchmark, not a test).

    python benchmarks/bench_edit.py                      # 12 MP photo, 20 strokes
    python benchmarks/bench_edit.py --megapixels 24 --preview-size 1600 --strokes 40

Generates a photo of the given size (a textured gradient, saved as JPEG), opens it as
``cudi edit`` does, serves the editor with uvicorn on loopback and sends brush strokes
over HTTP (one keep-alive connection, as the page does): the stroke -> preview round
trip is from sending the request to having read the whole JPEG. Beside it, in the
same run, the bare work behind one answer: painting the stroke into the map, running
the network on the preview, encoding the JPEG. Medians over the strokes. Needs the
[edit] extra.
"""
import argparse
import http.client
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cudi_jax.edit import adapter  # noqa: E402
from cudi_jax.edit import brush  # noqa: E402
from cudi_jax.edit import server  # noqa: E402
from cudi_jax.edit import session as session_lib  # noqa: E402


def machine():
  model = "unknown CPU"
  try:
    with open("/proc/cpuinfo") as f:
      model = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), model)
  except OSError:
    pass
  cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  try:
    load = "load average %.2f %.2f %.2f" % os.getloadavg()
  except OSError:
    load = "load average n/a"
  return f"{model}, {cpus} CPUs available; {load}"


def make_photo(path, megapixels, seed=0):
  from PIL import Image
  w = int(round((megapixels * 1e6 * 4 / 3) ** 0.5))
  h = int(round(w * 3 / 4))
  rng = np.random.default_rng(seed)
  yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
  xx = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
  base = 0.06 + 0.25 * xx * (1.0 - 0.5 * yy) + 0.04 * np.sin(40 * xx + 25 * yy)
  rgb = np.empty((h, w, 3), np.uint8)
  for c, tint in enumerate((1.0, 0.9, 0.75)):
    noise = rng.integers(0, 8, (h, w), dtype=np.uint8)
    rgb[..., c] = np.clip(base * tint * 255.0, 0, 247).astype(np.uint8) + noise
  Image.fromarray(rgb).save(path, quality=92)
  return h, w


def strokes(shape, count, seed=1):
  """Short random strokes (6 points each) in preview pixels."""
  rng = np.random.default_rng(seed)
  h, w = shape
  for i in range(count):
    x, y = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    dx, dy = rng.uniform(-0.1, 0.1, 2) * w
    points = [[x + dx * t / 5, y + dy * t / 5] for t in range(6)]
    yield {"stroke": i + 1, "points": points, "radius": 0.05 * max(h, w), "strength": 0.3,
           "hardness": 0.4, "mode": "brighten" if i % 2 == 0 else "darken", "done": True}


def median_ms(times):
  return 1000.0 * float(np.median(times))


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--megapixels", type=float, default=12.0)
  p.add_argument("--preview-size", type=int, default=session_lib.DEFAULT_PREVIEW_SIZE)
  p.add_argument("--strokes", type=int, default=20)
  p.add_argument("--threads", type=int, default=None)
  args = p.parse_args(argv)
  print(machine())
  with tempfile.TemporaryDirectory() as folder:
    photo = os.path.join(folder, "photo.jpg")
    h, w = make_photo(photo, args.megapixels)
    model = adapter.load_model(threads=args.threads)
    start = time.perf_counter()
    session = session_lib.EditSession(model, photo, os.path.join(folder, "out.jpg"),
                                      os.path.join(folder, "out_map.png"),
                                      preview_size=args.preview_size)
    session.preview_jpeg()
    opened = time.perf_counter() - start
    ph, pw = session.shape
    print(f"photo {w}x{h} ({w * h / 1e6:.1f} MP), preview {pw}x{ph} "
          f"({pw * ph / 1e6:.2f} MP), {model.threads} threads; opening it took {opened:.2f} s")

    # Stroke -> preview through a real server over HTTP on loopback.
    round_trips, sizes = [], []
    with server.BackgroundServer(server.create_app(session)) as url:
      host, port = url.split("//")[1].rstrip("/").split(":")
      conn = http.client.HTTPConnection(host, int(port), timeout=60)
      headers = {"Content-Type": "application/json", "Host": f"127.0.0.1:{port}"}
      for body in strokes(session.shape, args.strokes + 2):
        data = json.dumps(body)
        t = time.perf_counter()
        conn.request("POST", "/api/stroke", data, headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - t
        if response.status != 200:
          raise SystemExit(f"server answered {response.status}: {payload[:200]!r}")
        round_trips.append(elapsed)
        sizes.append(len(payload))
      conn.close()
    round_trips = round_trips[2:]  # the first requests warm up connection and caches

    # The same work without the server, in the same process and run.
    paint_t, network_t, encode_t = [], [], []
    for body in strokes(session.shape, args.strokes, seed=2):
      t0 = time.perf_counter()
      stroke = brush.Stroke(session.shape, body["radius"], body["hardness"], body["strength"],
                            body["mode"])
      stroke.extend(body["points"])
      y0, y1, x0, x1 = stroke.box
      session.offset[y0:y1, x0:x1] = stroke.apply(session.offset[y0:y1, x0:x1],
                                                  session.base()[y0:y1, x0:x1])
      requested = session.requested_map()
      t1 = time.perf_counter()
      out = adapter.enhance(model, session.small, requested)
      t2 = time.perf_counter()
      session_lib.encode_jpeg(out)
      t3 = time.perf_counter()
      paint_t.append(t1 - t0)
      network_t.append(t2 - t1)
      encode_t.append(t3 - t2)
    bare = [a + b + c for a, b, c in zip(paint_t, network_t, encode_t)]
    print(f"stroke -> preview round trip over HTTP: median {median_ms(round_trips):.0f} ms "
          f"(min {1000 * min(round_trips):.0f}, max {1000 * max(round_trips):.0f}; "
          f"{len(round_trips)} strokes, JPEG {np.median(sizes) / 1024:.0f} kB)")
    print(f"bare work: median {median_ms(bare):.0f} ms = paint {median_ms(paint_t):.1f} + "
          f"network {median_ms(network_t):.0f} + JPEG {median_ms(encode_t):.1f} ms")
    start = time.perf_counter()
    session.save()
    print(f"Save (full-size map and photo): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
  main()
