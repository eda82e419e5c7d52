"""Is a teacher alive? Its output at two exposures, and its ReLUs, layer by layer.

    python tools/teacher_health.py RUN [--photo DARK.jpg] [--data PHOTOS/] [--layers]

RUN is a teacher workdir (latest checkpoint), one ``checkpoints/<step>`` folder or an
``export.py`` .npz. Prints the photo's mean, the mean of the teacher's output at
E = 0.2 and at E = 0.8 (a live teacher gives clearly different values; a dead one,
whose curve maps no longer depend on E, gives the same), and the fraction of dead ReLU
channels per block: channels whose pre-activation is at most 0 at every pixel of a
batch of 8 random 128x128 crops of ``--data`` (seed 0, with training maps), or of the
photo's 128x128 tiles when ``--data`` is not given. ``--layers`` adds, per conv, the
std of the pre-activations and the mean over channels of each channel's std over the
batch's pixels ("signal": how much of the input the layer still carries).
"""
import argparse
import os
import sys

import numpy as np


def _layers(model, params, image, emap):
  """[(conv name, pre-activations (B, H, W, C))] in network order, head last."""
  from cudi_jax import teacher_layout
  _, state = model.apply({"params": params}, image, emap, capture_intermediates=True,
                         mutable=["intermediates"])
  inter = state["intermediates"]
  names = [n for n, _ in teacher_layout.encoder(model.width, model.multipliers)]
  names += [n for n, _, _ in teacher_layout.decoder(model.width, model.multipliers)]
  out = []
  for block in names:
    for i in range(model.convs_per_block):
      out.append((f"{block}/conv{i}", np.asarray(inter[block][f"conv{i}"]["__call__"][0])))
  out.append(("head", np.asarray(inter["head"]["__call__"][0])))
  return out


def layer_stats(model, params, image, emap):
  """Per conv: name, channels, pre-activation std, signal, dead fraction, off fraction."""
  rows = []
  for name, z in _layers(model, params, image, emap):
    flat = z.reshape(-1, z.shape[-1])
    rows.append({"layer": name, "channels": flat.shape[1], "std": float(flat.std()),
                 "signal": float(flat.std(axis=0).mean()),
                 "dead": float(np.mean((flat <= 0).all(axis=0))),
                 "off": float(np.mean(flat <= 0))})
  return rows


def dead_by_block(rows):
  """{block: dead fraction of its channels}, and the fraction over every hidden conv."""
  counts = {}
  for r in rows:
    if r["layer"] != "head":
      dead, total = counts.get(r["layer"].split("/")[0], (0.0, 0))
      counts[r["layer"].split("/")[0]] = (dead + r["dead"] * r["channels"], total + r["channels"])
  overall = sum(d for d, _ in counts.values()) / sum(t for _, t in counts.values())
  return {k: d / t for k, (d, t) in counts.items()}, overall


def exposure_response(model, params, photo, values=(0.2, 0.8)):
  """{E: mean of the teacher's output for the photo under a constant map E}."""
  import jax.numpy as jnp
  from cudi_jax.train import models
  image = jnp.asarray(photo[None])
  out = {}
  for e in values:
    maps = model.apply({"params": params}, image, jnp.full(image.shape[:3] + (1,), e))
    out[e] = float(models.teacher_enhance(maps, image).mean())
  return out


def _batch(data, photo, patch=128, size=8):
  if data:
    import ml_collections
    from configs import default
    from cudi_jax.train import input_pipeline as data_lib
    config = ml_collections.ConfigDict(default.get_config().data.to_dict())
    config.path, config.patch_size, config.num_threads = data, patch, 2
    dataset, _ = data_lib.make_dataset(config, size, 0)
    batches = data_lib.batch_iterator(dataset, 0, 2, 2, 0)
    try:
      batch = next(batches)
    finally:
      if hasattr(batches, "close"):
        batches.close()
    return batch["image"], batch["exposure"]
  h, w = (photo.shape[0] // patch) * patch, (photo.shape[1] // patch) * patch
  if not h or not w:
    h, w = photo.shape[:2]
    tiles = photo[None]
  else:
    tiles = photo[:h, :w].reshape(h // patch, patch, w // patch, patch, 3)
    tiles = tiles.transpose(0, 2, 1, 3, 4).reshape(-1, patch, patch, 3)[:size]
  emap = np.where(np.arange(len(tiles)) % 2, 0.8, 0.2).astype(np.float32)
  return tiles, np.broadcast_to(emap[:, None, None, None], tiles.shape[:3] + (1,)).copy()


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("run", help="teacher workdir, checkpoints/<step> folder or .npz export")
  parser.add_argument("--photo", default=None,
                      help="photo for the exposure response (default: the package's "
                           "sample photo, cudi_jax/assets/coffee_dark.jpg)")
  parser.add_argument("--data", default="", help="photo folder for the ReLU statistics")
  parser.add_argument("--layers", action="store_true", help="print every conv's statistics")
  args = parser.parse_args(argv)

  from cudi_jax.errors import CudiError
  from cudi_jax.train import checkpoints, input_pipeline
  photo_path = args.photo or os.path.join(os.path.dirname(checkpoints.__file__), os.pardir,
                                          "assets", "coffee_dark.jpg")
  try:
    trained = checkpoints.load_trained(args.run, kind="teacher")
    photo = input_pipeline.decode_file(photo_path).astype(np.float32) / 255.0
  except (CudiError, OSError) as err:
    print(f"error: {err}", file=sys.stderr)
    return 1
  model = trained.model
  image, emap = _batch(args.data, photo)
  rows = layer_stats(model, trained.params, image, emap)
  if args.layers:
    print(f"{'layer':12s} {'std':>9s} {'signal':>9s} {'dead':>5s} {'off':>5s}")
    for r in rows:
      print(f"{r['layer']:12s} {r['std']:9.2e} {r['signal']:9.2e} {r['dead']:5.2f} "
            f"{r['off']:5.2f}")
  blocks, overall = dead_by_block(rows)
  response = exposure_response(model, trained.params, photo)
  print(f"{args.run} (step {trained.step}): photo mean {photo.mean():.3f}, output at "
        f"E = 0.2 / 0.8: {response[0.2]:.3f} / {response[0.8]:.3f}")
  print(f"dead ReLU channels: {overall:.2f} of all; "
        + ", ".join(f"{k} {v:.2f}" for k, v in blocks.items()))
  return 0


if __name__ == "__main__":
  sys.exit(main())
