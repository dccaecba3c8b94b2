"""The plain-data wire format between judge and worker (autograder/wire.py)."""
import struct

import numpy as np
import pytest

from autograder.sandbox import wire


def roundtrip(v):
    return wire.decode(wire.encode(v))


def test_roundtrip_plain_values():
    v = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (1, 2.5, None, True, "s"),
         "c": [np.float64(1.5), np.int64(3), np.bool_(True)], 3: float("nan"),
         "e": np.zeros((0, 4)), "f": np.array(["x", "yz"]), "g": float("-inf")}
    r = roundtrip(v)
    assert r["a"].dtype == np.float32 and np.array_equal(r["a"], v["a"])
    assert r["b"] == v["b"] and isinstance(r["b"], tuple)
    assert type(r["c"][0]) is np.float64 and type(r["c"][1]) is np.int64
    assert np.isnan(r[3]) and r["g"] == float("-inf")
    assert r["e"].shape == (0, 4) and list(r["f"]) == ["x", "yz"]
    assert r["a"].flags.writeable


def test_other_objects_become_handles_only_when_allowed():
    class Thing:
        pass
    with pytest.raises(wire.WireError):
        wire.encode({"x": Thing()})
    with pytest.raises(wire.WireError):
        wire.encode(np.array([Thing()], dtype=object))
    data = wire.encode([Thing(), 1], to_handle=lambda o: (7, type(o).__name__))
    h, one = wire.decode(data)
    assert isinstance(h, wire.Handle) and h.id == 7 and h.type_name == "Thing" and one == 1


def _forge(header, buffers=(), table=None):
    import json
    hb = json.dumps(header).encode()
    mb = json.dumps(table if table is not None else [len(b) for b in buffers]).encode()
    total = 16 + len(hb) + len(mb) + sum(len(b) for b in buffers)
    return b"".join([b"CS39", struct.pack("<QQQ", total, len(hb), len(mb)), hb, mb, *buffers])


@pytest.mark.parametrize("header,buffers", [
    ({"$nd": ["|O", [1], 0]}, [b"\0" * 8]),                 # object dtype
    ({"$nd": ["<f8", [3], 0]}, [b"\0" * 8]),                # size mismatch
    ({"$nd": [[["a", "<f8"]], [1], 0]}, [b"\0" * 8]),       # structured dtype
    ({"$nd": ["<f8", [1], 5]}, [b"\0" * 8]),                # bad buffer index
    ({"$pickle": "x"}, []),                                  # unknown node
    ({"$dict": [[[1, 2], 3]]}, []),                          # unhashable key
])
def test_malformed_messages_are_rejected(header, buffers):
    with pytest.raises(wire.WireError):
        wire.decode(_forge(header, buffers))


def test_oversized_and_truncated_messages_are_rejected():
    with pytest.raises(wire.WireError):
        wire.frame_length(b"CS39" + struct.pack("<Q", wire.MAX_MESSAGE + 1))
    with pytest.raises(wire.WireError):
        wire.frame_length(b"XXXX" + struct.pack("<Q", 100))
    data = wire.encode([1, 2, 3])
    with pytest.raises(wire.WireError):
        wire.decode(data[:-1])
    nested = 0
    for _ in range(100):
        nested = [nested]
    with pytest.raises(wire.WireError):
        wire.encode(nested)
