"""Random damage to a saved model file: every load works or raises ModelFileError, in bounds.

The loads run in a child process with an address-space limit (a load that tried to allocate a
huge module fails with MemoryError there) and an alarm per load (a load that hangs fails with
TimeoutError). Mutations are seeded, so a failure is reproducible from its index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

N_MUTATIONS = 120
SEED = 20261125
LOAD_SECONDS = 30  # a bound per load, far above the ~0.1 s a load takes
EXTRA_ADDRESS_SPACE = 3 << 30  # bytes the child may map beyond what it holds after imports

_CHILD = r'''
import copy, io, json, math, resource, shutil, signal, sys, time, traceback, zipfile
from pathlib import Path
import numpy as np
from fadvi_core import FADVI, ModelFileError

source, work, seed, count, extra, seconds = sys.argv[1:]
source, work = Path(source), Path(work)
seed, count, extra, seconds = int(seed), int(count), int(extra), int(seconds)
original = (source / "fadvi_model.npz").read_bytes()
with np.load(source / "fadvi_model.npz") as archive:
    arrays = {name: archive[name] for name in archive.files}
metadata = json.loads(arrays.pop("metadata").tobytes())
rng = np.random.default_rng(seed)
POOL = [None, True, -1, 0, 1, 2**31, 2**62, 1e308, -1e-3, 0.5, float("nan"), "x", "V2000000000",
        "float64", "object", [], {}, [1, 2], {"__ndarray__": [1], "dtype": "V2000000000"},
        {"__ndarray__": [[1]], "dtype": "object"}]

def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list) and value:
        index = int(rng.integers(len(value)))
        yield from paths(value[index], prefix + (index,))

def mutate_json():
    data = copy.deepcopy(metadata)
    for _ in range(int(rng.integers(1, 4))):
        candidates = [p for p in paths(data) if p]
        path = candidates[int(rng.integers(len(candidates)))]
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        key, kind = path[-1], int(rng.integers(4))
        if kind == 0 and isinstance(parent, dict):
            del parent[key]
        elif kind == 1 and type(parent[key]) in (int, float):
            parent[key] = parent[key] * 10 ** int(rng.integers(1, 7)) + 1
        elif kind == 2 and isinstance(parent[key], list):
            parent[key] = parent[key][: int(rng.integers(len(parent[key]) + 1))]
        else:
            parent[key] = copy.deepcopy(POOL[int(rng.integers(len(POOL)))])
    return dict(arrays), data

def mutate_tensor():
    changed = dict(arrays)
    names = sorted(n for n in changed if n.startswith("tensor/"))
    name = names[int(rng.integers(len(names)))]
    value = changed[name]
    kind = int(rng.integers(4))
    if kind == 0 and value.ndim:
        changed[name] = value[: max(value.shape[0] - 1, 0)]
    elif kind == 1:
        changed[name] = np.concatenate([value.ravel(), value.ravel()])
    elif kind == 2 and value.dtype.kind == "f" and value.size:
        value = value.copy(); value.ravel()[0] = [np.nan, np.inf, -np.inf][int(rng.integers(3))]
        changed[name] = value
    else:
        del changed[name]
    return changed, metadata

def write_npz(folder, arrays_, metadata_):
    payload = dict(arrays_)
    payload["metadata"] = np.frombuffer(json.dumps(metadata_).encode(), dtype=np.uint8)
    np.savez(folder / "fadvi_model.npz", **payload)

def mutate_bytes(folder):
    data = bytearray(original)
    kind = int(rng.integers(4))
    if kind == 0:
        for _ in range(int(rng.integers(1, 9))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
    elif kind == 1:
        del data[int(rng.integers(len(data))):]
    elif kind == 2:
        start = int(rng.integers(len(data)))
        data[start:start + int(rng.integers(1, 200))] = bytes(200)[: len(data[start:start + 200])]
    else:
        start = int(rng.integers(len(data)))
        data[start:start] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    (folder / "fadvi_model.npz").write_bytes(bytes(data))

def on_alarm(*_):
    raise TimeoutError(f"load took more than {seconds} s")

signal.signal(signal.SIGALRM, on_alarm)
held = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (held + extra, held + extra))
results = []
for index in range(count):
    folder = work / str(index)
    folder.mkdir()
    how = ("json", "tensor", "bytes")[index % 3]
    if how == "json":
        write_npz(folder, *mutate_json())
    elif how == "tensor":
        write_npz(folder, *mutate_tensor())
    else:
        mutate_bytes(folder)
    with_data = index % 4 == 3
    if with_data:
        shutil.copy(source / "adata.h5ad", folder / "adata.h5ad")
    start = time.perf_counter()
    signal.alarm(seconds)
    try:
        model = FADVI.load(folder)
        if with_data:
            model.predict()
        outcome = "ok"
    except ModelFileError:
        outcome = "ModelFileError"
    except ValueError as error:
        outcome = "ValueError: " + str(error)[:300]
    except BaseException as error:
        outcome = f"{type(error).__name__}: {str(error)[:300]} {traceback.format_exc()[-600:]}"
    finally:
        signal.alarm(0)
    results.append({"index": index, "how": how, "with_data": with_data, "outcome": outcome,
                    "seconds": time.perf_counter() - start})
    shutil.rmtree(folder)
print("RESULTS" + json.dumps(results))
'''


@pytest.fixture(scope="module")
def fuzz_results(trained, tmp_path_factory):
    model, _ = trained
    source = tmp_path_factory.mktemp("model")
    model.save(source, save_anndata=True)
    work = tmp_path_factory.mktemp("fuzz")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(source), str(work), str(SEED), str(N_MUTATIONS),
         str(EXTRA_ADDRESS_SPACE), str(LOAD_SECONDS)],
        capture_output=True, text=True, env=env, timeout=N_MUTATIONS * LOAD_SECONDS)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("RESULTS", 1)[1])


def test_every_damaged_file_loads_or_raises_model_file_error(fuzz_results):
    unexpected = [r for r in fuzz_results if r["outcome"] != "ok"
                  and not r["outcome"].startswith("ModelFileError")
                  # with the saved data, a damaged registry may also be a plain data error
                  and not (r["with_data"] and r["outcome"].startswith("ValueError"))]
    assert unexpected == []
    assert len(fuzz_results) == N_MUTATIONS


def test_the_fuzzing_reaches_each_kind_of_damage(fuzz_results):
    refused = {r["how"] for r in fuzz_results if r["outcome"] == "ModelFileError"}
    assert refused == {"json", "tensor", "bytes"}
