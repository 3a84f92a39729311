import io
import os
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff import serialization
from autodiff.tensor import Tensor
from tests.nn.standins import Net


def _x():
    return ad.tensor(np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32))


def _files(directory):
    return sorted(os.listdir(directory))


def test_round_trip_of_nested_structures(tmp_path):
    obj = {
        "model": OrderedDict(w=ad.tensor([[1.0, 2.0]]), idx=ad.tensor([1, 2])),
        "state": {0: {"momentum": np.arange(3.0), "step": np.int64(7)}, 1: {}},
        "param_groups": [{"lr": 0.1, "params": [0, 1], "nesterov": False, "name": None}],
        "pair": (1, "two", 3.5),
        "empty": [],
    }
    path = tmp_path / "ckpt.npz"
    nn.save(obj, path)
    got = nn.load(path)

    assert type(got) is dict and list(got) == list(obj)
    assert type(got["model"]) is OrderedDict and list(got["model"]) == ["w", "idx"]
    w = got["model"]["w"]
    assert type(w) is Tensor and not w.requires_grad
    assert w.dtype == np.float32 and w.shape == (1, 2)
    np.testing.assert_array_equal(w.data, [[1.0, 2.0]])
    assert got["model"]["idx"].dtype == np.int64
    momentum = got["state"][0]["momentum"]
    assert type(momentum) is np.ndarray and momentum.dtype == np.float64
    step = got["state"][0]["step"]
    assert type(step) is np.int64 and step == 7
    assert got["state"][1] == {} and list(got["state"]) == [0, 1]
    assert got["param_groups"] == obj["param_groups"]
    assert got["pair"] == (1, "two", 3.5) and got["empty"] == []


def test_the_file_is_a_plain_npz_without_pickled_objects(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": ad.ones(2, 2), "note": "hi"}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert all(archive[k].dtype != object for k in archive.files)
        assert "__autodiff__" in archive.files


def test_model_round_trip_gives_identical_outputs(tmp_path):
    trained, fresh = Net(seed=1), Net(seed=2)
    trained.steps.data[...] = 12
    x = _x()
    assert not np.array_equal(trained(x).data, fresh(x).data)
    path = tmp_path / "model.npz"
    nn.save(trained.state_dict(), path)
    result = fresh.load_state_dict(nn.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)
    assert fresh.steps.item() == 12


def test_module_save_and_load_methods(tmp_path):
    trained, fresh = Net(seed=1), Net(seed=2)
    trained.save(tmp_path / "m.npz")
    fresh.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(fresh(_x()).data, trained(_x()).data)


def test_loading_into_a_model_with_other_shapes_names_the_keys(tmp_path):
    class Wider(Net):
        def __init__(self):
            super().__init__()
            self.hidden.w = nn.Parameter(np.zeros((3, 5), np.float32))
            del self.out.b

    path = tmp_path / "model.npz"
    nn.save(Net().state_dict(), path)
    with pytest.raises(RuntimeError) as info:
        Wider().load_state_dict(nn.load(path))
    message = str(info.value)
    assert "'hidden.w'" in message and "(3, 4)" in message and "(3, 5)" in message
    assert "Unexpected key(s)" in message and "'out.b'" in message


def test_save_overwrites_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"v": 1}, path)
    nn.save({"v": 2}, str(path))
    assert nn.load(path) == {"v": 2}
    assert _files(tmp_path) == ["ckpt.npz"]


def _partial_write_then_fail(f, arrays):
    f.write(b"PK\x03\x04 half a zip")
    raise OSError("No space left on device")


@pytest.mark.parametrize("failure", ["write", "fsync", "replace", "interrupt"])
def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch, failure):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("simulated failure")

    def interrupt(f, arrays):
        f.write(b"partial")
        raise KeyboardInterrupt

    if failure == "write":
        monkeypatch.setattr(serialization, "_write_arrays", _partial_write_then_fail)
    elif failure == "fsync":
        monkeypatch.setattr(serialization.os, "fsync", fail)
    elif failure == "replace":
        monkeypatch.setattr(serialization.os, "replace", fail)
    else:
        monkeypatch.setattr(serialization, "_write_arrays", interrupt)
    expected = KeyboardInterrupt if failure == "interrupt" else OSError
    with pytest.raises(expected):
        nn.save({"w": np.zeros(1000)}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert _files(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(nn.load(path)["w"], np.arange(4.0))


def test_unsupported_values_are_named_and_nothing_is_written(tmp_path):
    path = tmp_path / "ckpt.npz"
    with pytest.raises(TypeError, match=r"obj\['state'\]\[0\]\['fn'\] is a function"):
        nn.save({"state": [{"fn": lambda x: x}]}, path)
    with pytest.raises(TypeError, match="key"):
        nn.save({(1, 2): 3}, path)
    with pytest.raises(TypeError, match="dtype"):
        nn.save({"a": np.array(["x"])}, path)
    with pytest.raises(TypeError, match="set"):
        nn.save({"a": {1, 2}}, path)
    assert _files(tmp_path) == []


def test_save_into_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nn.save({}, tmp_path / "nope" / "ckpt.npz")


def test_load_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        nn.load(tmp_path / "missing.npz")


def test_load_truncated_file_names_the_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save(Net().state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="ckpt.npz.*corrupt or truncated"):
        nn.load(path)


def test_load_corrupted_bytes_is_detected(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the array's data: the zip CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="ckpt.npz"):
        nn.load(path)


@pytest.mark.parametrize("kind", ["garbage", "npy", "plain_npz", "bad_meta"])
def test_load_rejects_files_not_written_by_save(tmp_path, kind):
    path = tmp_path / "file.npz"
    if kind == "garbage":
        path.write_bytes(b"hello world" * 10)
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.arange(3))
    elif kind == "plain_npz":
        np.savez(path, w=np.arange(3))
    else:
        with zipfile.ZipFile(path, "w") as z, z.open("__autodiff__.npy", "w") as f:
            np.save(f, np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ValueError, match="file.npz"):
        nn.load(path)


# ---- stale temporaries of killed saves (issue 12, defect 7) -----------------------------------

_OLD = 3600.0  # seconds: older than any save in progress could have left its temporary


def _temporary(directory, name, digits="0123456789ab", age=_OLD):
    """A file named as a save's temporary of `name`, last modified `age` seconds ago."""
    tmp = directory / f".{name}.{digits}.tmp"
    tmp.write_bytes(b"PK\x03\x04 half a zip")
    os.utime(tmp, (time.time() - age, time.time() - age))
    return tmp


def test_a_save_removes_the_temporaries_that_killed_saves_left(tmp_path):
    path = tmp_path / "ckpt.npz"
    for digits in ("0123456789ab", "ba9876543210"):
        _temporary(tmp_path, "ckpt.npz", digits)
    nn.save({"v": 1}, path)
    assert _files(tmp_path) == ["ckpt.npz"]
    assert nn.load(path) == {"v": 1}


def test_a_save_leaves_every_other_file_alone(tmp_path):
    others = [
        _temporary(tmp_path, "other.npz"),  # another target's
        _temporary(tmp_path, "ckpt.npz", "0123456789AB"),  # not our hex digits
        _temporary(tmp_path, "ckpt.npz", "0123456789"),  # not 12 of them
        _temporary(tmp_path, "ckpt.npz", age=0.0),  # may be a save that has not locked it yet
    ]
    stray = tmp_path / "ckpt.npz.0123456789ab.tmp"  # no leading dot: not ours
    stray.write_bytes(b"user data")
    os.utime(stray, (time.time() - _OLD, time.time() - _OLD))
    nn.save({"v": 1}, tmp_path / "ckpt.npz")
    assert all(p.exists() for p in [*others, stray])


_SLOW_SAVE = """
import sys, time
import numpy as np
from autodiff import serialization

def write_then_hang(f, arrays):
    f.write(b"PK half a zip")
    f.flush()
    print("writing", flush=True)
    time.sleep(600)

serialization._write_arrays = write_then_hang
serialization.save({"w": np.zeros(3)}, sys.argv[1])
"""


@pytest.mark.skipif(os.name == "nt", reason="saves lock their temporaries with POSIX flock")
def test_the_temporary_of_a_live_save_is_kept_and_removed_once_its_process_is_killed(tmp_path):
    path = tmp_path / "ckpt.npz"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SAVE, str(path)],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "writing\n"
        (tmp,) = [tmp_path / name for name in _files(tmp_path)]
        os.utime(tmp, (time.time() - _OLD, time.time() - _OLD))  # as if writing for an hour
        nn.save({"v": 1}, path)
        assert tmp.exists()  # locked by the live save
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    nn.save({"v": 2}, path)
    assert _files(tmp_path) == ["ckpt.npz"]
    assert nn.load(path) == {"v": 2}


# ---- hostile files: ValueError, before any recursion or allocation runs away -------------------


def _write_checkpoint(path, meta: bytes, entries=()):
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__autodiff__.npy", "w") as f:
            np.save(f, np.frombuffer(meta, np.uint8))
        for name, data in entries:
            with z.open(name, "w") as f:
                f.write(data)


@pytest.mark.parametrize("where", ["json", "structure"])
def test_load_of_deeply_nested_metadata_raises_value_error(tmp_path, where):
    path = tmp_path / "deep.npz"
    if where == "json":
        meta = b"[" * 100_000 + b"]" * 100_000
    else:
        node = '{"kind": "value", "value": 1}'
        for _ in range(5000):
            node = '{"kind": "list", "items": [' + node + "]}"
        meta = ('{"format": "autodiff-state", "version": 1, "root": ' + node + "}").encode()
    _write_checkpoint(path, meta)
    with pytest.raises(ValueError, match="deep.npz.*RecursionError"):
        nn.load(path)


def test_save_of_a_deeply_nested_object_raises_type_error(tmp_path):
    obj = [1]
    for _ in range(100_000):
        obj = [obj]
    with pytest.raises(TypeError, match="nested too deeply"):
        nn.save(obj, tmp_path / "deep.npz")
    assert _files(tmp_path) == []


def test_load_refuses_an_array_header_larger_than_the_file_before_allocating(tmp_path):
    header = io.BytesIO()
    shape = (100_000_000_000,)  # 745 GiB of float64
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    meta = b'{"format": "autodiff-state", "version": 1, "root": {"kind": "ndarray", "key": "a0"}}'
    path = tmp_path / "huge.npz"
    _write_checkpoint(path, meta, [("a0.npy", header.getvalue() + bytes(64))])
    with pytest.raises(ValueError, match=r"huge.npz.*'a0.npy' declares an array of shape"):
        nn.load(path)


def test_load_refuses_an_entry_whose_declared_size_no_compression_explains(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    # the central directory's uncompressed size of the first entry: 4 GiB - 1
    directory = data.index(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = (2**32 - 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="declares 4294967294 bytes"):
        nn.load(path)


def test_a_recompressed_checkpoint_still_loads(tmp_path):
    """Deflated entries may hold more than the file's size (up to deflate's ratio)."""
    path, packed = tmp_path / "ckpt.npz", tmp_path / "packed.npz"
    nn.save({"w": np.zeros(100_000)}, path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert os.path.getsize(packed) < 800_000
    np.testing.assert_array_equal(nn.load(packed)["w"], np.zeros(100_000))
