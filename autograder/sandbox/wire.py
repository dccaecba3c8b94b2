"""Plain-data wire format between the trusted judge and the untrusted worker (no pickle).

A message is ``b"CS39"`` + lengths + header JSON + buffer table JSON + raw buffers. The header is a JSON
tree whose leaves are ``None``/bool/int/float/str, numpy arrays (``{"$nd": [dtype, shape, i]}``
pointing at raw buffer i), numpy scalars (``{"$np": [dtype, i]}``), tuples (``{"$tuple": [...]}``),
dicts (``{"$dict": [[key, value], ...]}``) and opaque handles (``{"$h": [id, type_name]}``).
Decoding builds fresh Python/numpy objects only: dtypes restricted to bool/int/uint/float/complex/
bytes/str, sizes checked against caps before anything is allocated.

Framing: ``MAGIC, u64 total, u64 header length, u64 table length``; the table lists buffer
lengths. This module is stdlib + numpy only and is also copied next to the worker (the worker never imports
the ``autograder`` package).
"""
import json
import struct

import numpy as np

MAGIC = b"CS39"
MAX_MESSAGE = 512 * 2**20   # bytes in one message (header + buffers)
MAX_HEADER = 64 * 2**20
MAX_DEPTH = 40
_KINDS = set("biufcSU")


class WireError(Exception):
    """A malformed or oversized message (always the sender's fault)."""


class Handle:
    """An opaque reference to an object living in the worker (never dereferenced here)."""
    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name):
        self.id, self.type_name = int(id), str(type_name)

    def __repr__(self):
        return f"<Handle {self.id}: {self.type_name}>"

    def __eq__(self, other):
        return isinstance(other, Handle) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


def _check_dtype(s):
    if not isinstance(s, str) or len(s) > 16:
        raise WireError("bad dtype")
    dt = np.dtype(s)
    if dt.kind not in _KINDS or dt.hasobject or dt.fields is not None or dt.subdtype is not None:
        raise WireError(f"dtype {s!r} not allowed")
    return dt


def encode(value, to_handle=None):
    """Encode ``value``; ``to_handle(obj) -> (id, type_name)`` for other objects (worker side),
    otherwise they are an error (trusted side)."""
    buffers = []

    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v
        if t is float:
            return v if v == v and abs(v) != float("inf") else {"$f": repr(v)}
        if isinstance(v, Handle):
            return {"$h": [v.id, v.type_name]}
        if isinstance(v, np.ndarray) and v.dtype.kind in _KINDS and v.dtype.fields is None:
            a = np.ascontiguousarray(v)
            buffers.append(a.tobytes())
            return {"$nd": [a.dtype.str, list(a.shape), len(buffers) - 1]}
        if isinstance(v, np.generic) and v.dtype.kind in _KINDS and v.dtype.fields is None:
            buffers.append(np.asarray(v).tobytes())
            return {"$np": [v.dtype.str, len(buffers) - 1]}
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {"$tuple": [enc(x, depth + 1) for x in v]}
        if t is dict:
            return {"$dict": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        if to_handle is None:
            raise WireError(f"cannot send a {t.__name__}")
        hid, name = to_handle(v)
        return {"$h": [hid, name]}

    header = json.dumps(enc(value, 0), allow_nan=False).encode()
    lengths = [len(b) for b in buffers]
    meta = json.dumps(lengths).encode()
    total = 16 + len(header) + len(meta) + sum(lengths)
    if total > MAX_MESSAGE:
        raise WireError(f"value larger than {MAX_MESSAGE >> 20} MiB")
    return b"".join([MAGIC, struct.pack("<QQQ", total, len(header), len(meta)), header, meta]
                    + buffers)


def frame_length(prefix):
    """Total length of the message starting with these PREFIX (>= 12) bytes, after checks."""
    if prefix[:4] != MAGIC:
        raise WireError("bad magic")
    (total,) = struct.unpack("<Q", prefix[4:12])
    if total > MAX_MESSAGE or total < 16:
        raise WireError("bad message length")
    return 12 + total


def decode(data, resolve_handle=None):
    """Decode one complete message (bytes, as framed by ``encode``)."""
    try:
        return _decode(data, resolve_handle)
    except WireError:
        raise
    except Exception as e:   # malformed JSON, bad shapes, unhashable keys ...
        raise WireError(f"malformed message ({type(e).__name__})") from None


def _decode(data, resolve_handle):
    if len(data) != frame_length(data[:12]):
        raise WireError("truncated message")
    hlen, mlen = struct.unpack("<QQ", data[12:28])
    if 28 + hlen + mlen > len(data) or hlen > MAX_HEADER or mlen > MAX_HEADER:
        raise WireError("bad header length")
    header = json.loads(data[28:28 + hlen])
    lengths = json.loads(data[28 + hlen:28 + hlen + mlen])
    if not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths):
        raise WireError("bad buffer table")
    pos = 28 + hlen + mlen
    if pos + sum(lengths) != len(data):
        raise WireError("buffer table does not match the message length")
    view = memoryview(data)
    buffers = []
    for n in lengths:
        buffers.append(view[pos:pos + n])
        pos += n

    def dec(v, depth):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is list:
            return [dec(x, depth + 1) for x in v]
        if type(v) is not dict or len(v) != 1:
            raise WireError("bad node")
        (k, x), = v.items()
        if k == "$f" and x in ("nan", "inf", "-inf"):
            return float(x)
        if k == "$tuple" and type(x) is list:
            return tuple(dec(y, depth + 1) for y in x)
        if k == "$dict" and type(x) is list:
            out = {}
            for pair in x:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("bad dict")
                key = dec(pair[0], depth + 1)
                if type(key) not in (str, int, float, bool, tuple) and key is not None:
                    raise WireError("bad dict key")
                out[key] = dec(pair[1], depth + 1)
            return out
        if k == "$nd" and type(x) is list and len(x) == 3:
            dt = _check_dtype(x[0])
            shape, i = x[1], x[2]
            if (type(shape) is not list or len(shape) > 32
                    or not all(type(n) is int and n >= 0 for n in shape)
                    or type(i) is not int or not 0 <= i < len(buffers)):
                raise WireError("bad array")
            n = 1
            for s in shape:
                n *= s
            if n * dt.itemsize != len(buffers[i]):
                raise WireError("array size mismatch")
            return np.frombuffer(buffers[i], dtype=dt).reshape(shape).copy()
        if k == "$np" and type(x) is list and len(x) == 2:
            dt = _check_dtype(x[0])
            i = x[1]
            if type(i) is not int or not 0 <= i < len(buffers) or len(buffers[i]) != dt.itemsize:
                raise WireError("bad scalar")
            return np.frombuffer(buffers[i], dtype=dt)[0]
        if k == "$h" and type(x) is list and len(x) == 2 and type(x[0]) is int:
            h = Handle(x[0], str(x[1])[:200])
            return resolve_handle(h) if resolve_handle else h
        raise WireError("bad node")

    return dec(header, 0)


def recv_blocking(sock):
    """Read one whole message from a blocking socket (EOFError when the peer is gone)."""
    def read_exact(n):
        chunks, got = [], 0
        while got < n:
            b = sock.recv(min(n - got, 1 << 22))
            if not b:
                raise EOFError("peer closed the connection")
            chunks.append(b)
            got += len(b)
        return b"".join(chunks)
    prefix = read_exact(12)
    return prefix + read_exact(frame_length(prefix) - 12)
