"""Shared defaults for every config (the paper's settings); not run directly.

Variants call ``get_config()`` and override fields. Any field can be overridden
on the command line: ``--config.batch_size=16``, ``--config.data.path=DIR``.
"""
import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.model = "teacher"  # 'teacher' or 'student'
  config.seed = 0

  # Teacher: UNet at width * multipliers channels (4,701,912 params at width 32).
  # weight_init: 'he' (He init of the hidden convs, a small curve head: curves near
  # identity) or 'zero_dce' (Zero-DCE's N(0, 0.02) everywhere, what teachers before
  # the shipped one started from; most objectives other than the paper's then end with
  # a constant network: docs/training.md).
  config.teacher = ml_collections.ConfigDict(dict(
      width=32, multipliers=(1, 2, 4, 8, 8), convs_per_block=3, num_iterations=8,
      weight_init="he"))
  # Student: Zero-DCE++ topology, depthwise separable (3,630 params at width 16);
  # depthwise_impl 'auto' = shifted slices on CPU, grouped conv on GPU/TPU;
  # weight_init 'he' (near-identity start) or 'zero_dce' (N(0, 0.02), what students
  # before the shipped one started from).
  config.student = ml_collections.ConfigDict(dict(width=16, depthwise_impl="auto",
                                                  weight_init="he"))
  # Student only: a teacher workdir, its checkpoints folder, one checkpoints/<step>, or a
  # teacher .npz made by export.py.
  config.teacher_checkpoint = ""
  # Warm start: a workdir, checkpoint or export.py .npz of the same kind whose weights a
  # new run starts from (fresh optimizer, step 0). Ignored when the workdir already has
  # a checkpoint.
  config.init_from = ""

  config.data = ml_collections.ConfigDict(dict(
      path="",  # image folder (recursive: jpg, png, bmp, tif, webp)
      tfds_name="",  # or a tfds dataset in ArrayRecord format
      tfds_split="train",
      tfds_data_dir="",
      image_key="image",
      patch_size=256,
      resize_mode="crop",  # 'crop' (random crop) or 'resize' (whole image)
      flips=True,
      num_threads=4,  # decoding threads (per worker process when num_workers > 0)
      prefetch=8,
      num_workers=0,  # input worker processes; 0 = threads in the training process
      # Not in the paper: this fraction of samples gets an input-following map (what
      # `auto` gives the networks) instead of a two-region one.
      following_maps=0.0,
      # The values of the two-region training maps (and the targets of the following
      # maps) are drawn from this range; the paper's is (0.2, 0.8).
      exposure_range=(0.2, 0.8),
  ))

  config.batch_size = 8  # global, over all devices and hosts
  config.num_steps = 100_000
  config.learning_rate = 1e-4
  # 'constant' (the paper) or 'cosine': decay to lr_final_fraction * learning_rate over
  # lr_decay_steps (0 = num_steps). Changing these changes a resumed run's optimizer.
  config.lr_schedule = "constant"
  config.lr_decay_steps = 0
  config.lr_final_fraction = 0.0
  config.weight_decay = 1e-4  # Zero-DCE's Adam weight decay
  # 'coupled' (Zero-DCE, torch's Adam) or 'decoupled' (AdamW); changing it changes a
  # resumed run's optimizer.
  config.weight_decay_mode = "coupled"
  config.grad_clip_norm = 0.1  # Zero-DCE's gradient-norm clip; 0 disables
  config.compute_dtype = "float32"  # 'bfloat16' on GPU/TPU: params and Adam stay float32

  # slope: not in the paper (0 = off); penalises curve slopes above max_slope
  # (losses.slope_limit_loss), i.e. noise amplification in dark regions;
  # highlight_slope (0 = off) slopes above max_highlight_slope where the input is
  # above 0.5 (losses.highlight_slope_loss): steep darkening just below white;
  # shadow_slope (0 = off) slopes below min_shadow_slope where the input is below 0.5
  # (losses.shadow_slope_loss): shadows crushed by a darkening curve.
  config.loss_weights = ml_collections.ConfigDict(dict(
      exposure=10.0, spatial=1.0, color=5.0, smoothness=200.0, slope=0.0,
      highlight_slope=0.0, shadow_slope=0.0))
  config.exposure_cell = 16
  config.max_slope = 16.0
  config.max_highlight_slope = 6.0
  config.min_shadow_slope = 0.7
  # Not in the paper: 'regions' ties each region's mean brightness (not every 16x16
  # cell's) to E; spatial_log_eps > 0 compares log brightness in L_sc; 'input' keeps
  # the input's colour balance instead of L_cc's grey world (losses.teacher_losses).
  config.exposure_mode = "cells"
  config.spatial_log_eps = 0.0
  config.color_mode = "grey_world"
  # Student: 0 = the paper's plain L1 distillation; c > 0 weights each pixel's error by
  # 1 / (c + teacher output brightness) (losses.distillation_loss), against grey haze.
  config.distill_dark_weight = 0.0

  config.log_every = 50
  config.checkpoint_every = 500
  config.keep_checkpoints = 3
  return config
