"""Helpers shared by gust's server and client: status codes, metadata,
serialization, compression names."""

import collections
import logging

import gust

_LOGGER = logging.getLogger("gust")

#: grpc.StatusCode by wire number.
CODE_BY_NUMBER = {code.value[0]: code for code in gust.StatusCode}

#: grpc.Compression values to gust's encoding names.
_COMPRESSION_NAMES = {0: "identity", 1: "deflate", 2: "gzip"}


class Metadatum(collections.namedtuple("_Metadatum", ("key", "value"))):
    """One metadata entry, as grpcio gives them: a `(key, value)` tuple with
    named fields."""


def metadata(pairs):
    """Metadata from the core (a list of pairs) as grpcio shows it: a tuple
    of `(key, value)` named tuples."""
    return tuple(Metadatum(key, value) for key, value in pairs)


def code_number(code):
    """The wire number of a StatusCode (gust's, or grpcio's: same values);
    anything else is UNKNOWN."""
    value = getattr(code, "value", None)
    if isinstance(value, tuple) and value and isinstance(value[0], int) and 0 <= value[0] <= 16:
        return value[0]
    return gust.StatusCode.UNKNOWN.value[0]


def status_code(number):
    return CODE_BY_NUMBER.get(number, gust.StatusCode.UNKNOWN)


def encode(text):
    if isinstance(text, bytes):
        return text
    return str(text).encode("utf8")


def decode(data):
    if isinstance(data, bytes):
        return data.decode("utf8", "replace")
    return data


def compression_name(compression):
    """A grpc.Compression (or None) as gust's encoding name (or None)."""
    if compression is None:
        return None
    try:
        return _COMPRESSION_NAMES[int(compression)]
    except (KeyError, TypeError, ValueError):
        raise ValueError("unsupported compression {!r}".format(compression)) from None


def serialize(message, serializer):
    """`serializer(message)` as bytes, or None (logged) if that fails."""
    try:
        data = message if serializer is None else serializer(message)
    except Exception:  # pylint: disable=broad-except
        _LOGGER.exception("Exception serializing message!")
        return None
    if isinstance(data, (bytes, bytearray)):
        return data
    if data is not None:
        _LOGGER.error("Exception serializing message! (got %s, not bytes)", type(data).__name__)
    return None


class _DeserializationFailed(Exception):
    pass


def deserialize(data, deserializer):
    """`deserializer(data)`; raises _DeserializationFailed (logged)."""
    if deserializer is None:
        return data
    try:
        return deserializer(data)
    except Exception:  # pylint: disable=broad-except
        _LOGGER.exception("Exception deserializing message!")
        raise _DeserializationFailed() from None


def options_dict(options):
    """grpcio's channel/server options (pairs) as a dict; later pairs win."""
    result = {}
    for option in options or ():
        key, value = option
        result[key] = value
    return result
