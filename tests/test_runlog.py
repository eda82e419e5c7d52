"""Reading a run's metrics.jsonl (cudi_jax.runlog)."""
from cudi_jax import runlog
from tests import helpers


def test_read_metrics_skips_the_line_being_written_quietly(tmp_path):
  path = helpers.write_metrics_jsonl(tmp_path / "metrics.jsonl")
  warnings = []
  records = runlog.read_metrics(path, warn=warnings.append)
  assert len(records) == 30 and [r["step"] for r in records] == list(range(0, 300, 10))
  assert warnings == []


def test_read_metrics_skips_odd_lines_with_one_warning(tmp_path):
  path = tmp_path / "metrics.jsonl"
  path.write_bytes(b'{"step": 2, "loss": 1.0}\n'
                   b'not json\n'
                   b'{"step": "abc", "loss": 2.0}\n'
                   b'[1, 2]\n'
                   b'{"step": NaN}\n'
                   b'{"step": 1, "loss": 3.0}\n'
                   b'\xff\xfe garbage\n'
                   b'{"loss": 4.0}\n'
                   b'{"step": true}\n'
                   b'{"step": 3, "loss": 0.5}\n')
  warnings = []
  records = runlog.read_metrics(path, warn=warnings.append)
  assert [r["step"] for r in records] == [1, 2, 3]
  assert len(warnings) == 1 and "\n" not in warnings[0]
  assert str(path) in warnings[0] and "skipped 7 lines" in warnings[0] and "line 2" in warnings[0]
  assert runlog.read_metrics(path) == records  # no warn: quietly
