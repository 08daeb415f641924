"""BrainModel.forward / predict_features: parity with the goldens and the CLI, zero-copy
inputs, owning outputs, clear errors, concurrent calls."""

import threading

import numpy as np
import pytest

import tribev2
from tribev2 import _tribev2
from conftest import FIXTURES, max_rel_diff, run_cli

CASES = sorted(p for p in (FIXTURES / "brain_model").iterdir() if (p / "expected.npy").is_file())
TOL = 1e-4  # tests/fixtures/README.md: max|got - expected| <= 1e-4 * max|expected|


def batch_of(case):
    batch = {}
    for m in ("text", "audio", "video"):  # the fixture generator's batch order
        p = case / f"input_{m}.npy"
        if p.is_file():
            batch[m] = np.load(p)
    sid = case / "input_subject_id.npy"
    return batch, (np.load(sid).astype(np.int64).tolist() if sid.is_file() else None)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_forward_matches_golden(case):
    model = tribev2.BrainModel.load(str(case))
    batch, sids = batch_of(case)
    y = model.forward(batch, subject_ids=sids)
    assert y.dtype == np.float32 and y.flags.c_contiguous and y.flags.owndata
    assert max_rel_diff(y, np.load(case / "expected.npy")) <= TOL
    u = model.forward(batch, subject_ids=sids, pool_outputs=False)
    assert max_rel_diff(u, np.load(case / "expected_unpooled.npy")) <= TOL


def test_forward_matches_cli(tmp_path):
    case = FIXTURES / "brain_model" / "tribe_like"
    batch, _ = batch_of(case)
    args = []
    for m in batch:
        args += ["--input", f"{m}={case / f'input_{m}.npy'}"]
    run_cli("forward", "--model", case, *args, "--output", tmp_path / "y.npy")
    y = tribev2.BrainModel.load(str(case)).forward(batch)
    np.testing.assert_array_equal(y, np.load(tmp_path / "y.npy"))  # same engine, same threads split


def random_features(model, n, seed=0):
    rng = np.random.default_rng(seed)
    return {m: rng.standard_normal((ld[0], ld[1], n)).astype(np.float32)
            for m, ld in model.feature_dims.items() if ld is not None}


def test_predict_features_matches_cli(tmp_path):
    case = FIXTURES / "brain_model" / "text64_pipeline"
    model = tribev2.BrainModel.load(str(case))
    feats = random_features(model, 71)  # 35.5 s: three 15 s segments, the last one padded
    args = []
    for m, a in feats.items():
        np.save(tmp_path / f"{m}.npy", a)
        args += ["--features", f"{m}={tmp_path / f'{m}.npy'}"]
    run_cli("predict", "--model", case, *args, "--output", tmp_path / "preds.npy")
    preds, rows, segments = model.predict_features(feats)
    cli = np.load(tmp_path / "preds.npy")
    assert preds.shape == cli.shape == (36, model.n_outputs)
    assert max_rel_diff(preds, cli) <= 1e-6
    assert len(rows) == 36 and rows[0] == (0.0, 1.0)
    assert [s[0] for s in segments] == [0.0, 15.0, 30.0]


def test_inputs_are_read_in_place():
    a = np.zeros((2, 3, 4), dtype=np.float32)
    assert _tribev2._input_address(a) == a.ctypes.data  # C-contiguous float32: no copy
    f = np.asfortranarray(np.zeros((2, 3, 4), dtype=np.float32))
    assert _tribev2._input_address(f) != f.ctypes.data  # copied (C order)
    d = np.zeros((2, 3), dtype=np.float64)
    assert _tribev2._input_address(d) != d.ctypes.data  # converted


def test_non_contiguous_inputs_give_the_same_result():
    case = FIXTURES / "brain_model" / "tribe_like"
    model = tribev2.BrainModel.load(str(case))
    batch, _ = batch_of(case)
    ref = model.forward(batch)
    strided = {m: np.ascontiguousarray(np.repeat(a, 2, axis=-1))[..., ::2] for m, a in batch.items()}
    assert not next(iter(strided.values())).flags.c_contiguous
    np.testing.assert_array_equal(model.forward(strided), ref)
    as64 = {m: a.astype(np.float64) for m, a in batch.items()}
    np.testing.assert_array_equal(model.forward(as64), ref)


def test_errors_are_python_exceptions(tmp_path):
    with pytest.raises(FileNotFoundError, match="(?i)does not exist|no such file"):
        tribev2.BrainModel.load(str(tmp_path / "missing"))
    case = FIXTURES / "brain_model" / "tribe_like"
    model = tribev2.BrainModel.load(str(case))
    batch, _ = batch_of(case)
    with pytest.raises(ValueError, match="text"):
        model.forward({"text": batch["text"][:, :, :5]})  # wrong feature width
    with pytest.raises(ValueError):
        model.forward({"smell": batch["text"]})
    with pytest.raises(TypeError):
        model.forward({"text": "not an array"})
    with pytest.raises(ValueError, match="precision"):
        model.forward(batch, precision="f64")
    bad = {m: a.copy() for m, a in batch.items()}
    next(iter(bad.values())).flat[0] = np.nan
    with pytest.raises(ValueError, match="(?i)nan|finite"):
        model.forward(bad)


def test_two_threads_predict_concurrently():
    case = FIXTURES / "brain_model" / "text64_pipeline"
    model = tribev2.BrainModel.load(str(case))
    inputs = [random_features(model, 200 + 20 * i, seed=i) for i in range(2)]
    expected = [model.predict_features(f, threads=2)[0] for f in inputs]
    results = [[None] * 3 for _ in inputs]
    errors = []

    def work(i):
        try:
            for k in range(3):
                results[i][k] = model.predict_features(inputs[i], threads=2)[0]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(2):
        for k in range(3):
            np.testing.assert_array_equal(results[i][k], expected[i])


def test_predict_features_overlap_matches_cli(tmp_path):
    """overlap_trs as `predict --overlap-trs`: the same rows, the first segment unchanged, later
    rows from the shifted windows; K >= the segment length and bad values are errors."""
    case = FIXTURES / "brain_model" / "text64_pipeline"
    model = tribev2.BrainModel.load(str(case))
    feats = random_features(model, 71)  # 35.5 s with 15-TR segments
    args = []
    for m, a in feats.items():
        np.save(tmp_path / f"{m}.npy", a)
        args += ["--features", f"{m}={tmp_path / f'{m}.npy'}"]
    run_cli("predict", "--model", case, *args, "--overlap-trs", "5", "--output", tmp_path / "preds.npy")
    plain, plain_rows, _ = model.predict_features(feats)
    preds, rows, segments = model.predict_features(feats, overlap_trs=5)
    cli = np.load(tmp_path / "preds.npy")
    assert preds.shape == cli.shape == plain.shape
    assert max_rel_diff(preds, cli) <= 1e-6
    assert rows == plain_rows
    assert [s[0] for s in segments] == [0.0, 10.0, 20.0, 30.0]  # every 15 - 5 TRs
    np.testing.assert_array_equal(preds[:15], plain[:15])  # the first segment gives all its rows
    assert not np.array_equal(preds[15:], plain[15:])  # later rows have left context now
    np.testing.assert_array_equal(model.predict_features(feats, overlap_trs=0)[0], plain)
    with pytest.raises(Exception, match="overlap"):
        model.predict_features(feats, overlap_trs=15)
