"""The client: grpcio's ``grpc.Channel`` and multicallables on gust's core.

Every call runs in Rust (a ``_gust.ClientCall``); the objects here wait for
it with the GIL released and present it as grpcio does: a response, an
iterator of responses that is also a ``Call``, a ``Future``, or an
``RpcError`` that is also a ``Call``. Request iterators are consumed by a
thread of their own, which blocks (without the GIL) while the call's send
queue is full.
"""

import logging
import sys
import threading
import time
import types

import gust
from gust import _common
from gust import _gust

_LOGGER = logging.getLogger("gust")

_OK = gust.StatusCode.OK
_CANCELLED = gust.StatusCode.CANCELLED


def _timeout(timeout):
    if timeout is None:
        return None
    return max(float(timeout), 0.0)


class _Outcome:
    """How a finished call ended."""

    __slots__ = ("code", "details", "trailing_metadata", "response_data")

    def __init__(self, raw):
        number, details, trailing, response_data = raw
        self.code = _common.status_code(number)
        self.details = details
        self.trailing_metadata = _common.metadata(trailing)
        self.response_data = response_data


class _CallBase(gust.RpcError, gust.Call, gust.Future):
    """A call as grpcio presents it: a Call, a Future, and (when it failed)
    the RpcError raised for it."""

    def __init__(self, core, deserializer):
        super().__init__()
        self._core = core
        self._deserializer = deserializer
        self._lock = threading.Lock()
        self._outcome = None
        self._initial_metadata = None
        self._cancelled = False
        self._done_callbacks = []
        self._callback_registered = False
        self._response = None
        self._response_ready = False
        self._deserialize_failed = False

    # -- the outcome ---------------------------------------------------------

    def _wait(self, timeout=None):
        """Waits until the call is done; False if `timeout` ran out first."""
        if self._outcome is None:
            if not self._core.wait(timeout):
                return False
            self._outcome = _Outcome(self._core.outcome())
        return True

    def _finished(self):
        self._wait()
        return self._outcome

    def _failed_with(self, code, details):
        """Ends a call that failed on this side (a response that does not
        deserialize)."""
        self._core.cancel(code.value[0], details)
        self._wait()

    # -- Call ----------------------------------------------------------------

    def is_active(self):
        return not self._core.is_done()

    def time_remaining(self):
        return self._core.time_remaining()

    def cancel(self):
        if self._core.cancel():
            self._cancelled = True
            return True
        return False

    def add_callback(self, callback):
        return self._add_callback(lambda _call: callback())

    def initial_metadata(self):
        if self._initial_metadata is None:
            self._initial_metadata = _common.metadata(self._core.initial_metadata())
        return self._initial_metadata

    def trailing_metadata(self):
        return self._finished().trailing_metadata

    def code(self):
        return self._finished().code

    def details(self):
        return self._finished().details

    def debug_error_string(self):
        outcome = self._finished()
        return "gust: {} ({})".format(outcome.details, outcome.code.name)

    # -- Future --------------------------------------------------------------

    def cancelled(self):
        if not self._cancelled or not self._core.is_done():
            return False
        return self._finished().code is _CANCELLED

    def running(self):
        return not self._core.is_done()

    def done(self):
        return self._core.is_done()

    def _result_or_raise(self, timeout):
        if not self._wait(timeout):
            raise gust.FutureTimeoutError()
        if self.cancelled():
            raise gust.FutureCancelledError()
        if self._outcome.code is not _OK:
            raise self
        return self._deserialized_response()

    def result(self, timeout=None):
        return self._result_or_raise(timeout)

    def exception(self, timeout=None):
        if not self._wait(timeout):
            raise gust.FutureTimeoutError()
        if self.cancelled():
            raise gust.FutureCancelledError()
        if self._outcome.code is _OK:
            return None
        return self

    def traceback(self, timeout=None):
        if not self._wait(timeout):
            raise gust.FutureTimeoutError()
        if self.cancelled():
            raise gust.FutureCancelledError()
        if self._outcome.code is _OK:
            return None
        try:
            raise self
        except gust.RpcError:
            return sys.exc_info()[2]

    def add_done_callback(self, fn):
        if not self._add_callback(fn):
            fn(self)

    def _add_callback(self, fn):
        """Runs `fn(self)` once the call is done; False (not added) if it is."""
        with self._lock:
            if self._done_callbacks is None:
                return False
            self._done_callbacks.append(fn)
            if self._callback_registered:
                return True
            self._callback_registered = True
        if self._core.set_done_callback(self._on_done):
            return True
        # Already done: run whatever was queued, except `fn` (the caller's).
        with self._lock:
            callbacks, self._done_callbacks = self._done_callbacks, None
        for callback in callbacks:
            if callback is not fn:
                self._run_callback(callback)
        return False

    def _on_done(self):
        with self._lock:
            callbacks, self._done_callbacks = self._done_callbacks, None
        for callback in callbacks or ():
            self._run_callback(callback)

    def _run_callback(self, callback):
        try:
            callback(self)
        except Exception:  # pylint: disable=broad-except
            _LOGGER.exception("Exception calling done callback!")

    # -- the response of unary-response calls --------------------------------

    def _deserialized_response(self):
        if not self._response_ready:
            data = self._outcome.response_data
            if data is not None:
                try:
                    self._response = _common.deserialize(data, self._deserializer)
                except _common._DeserializationFailed:  # pylint: disable=protected-access
                    self._deserialize_failed = True
                    self._outcome.code = gust.StatusCode.INTERNAL
                    self._outcome.details = "Exception deserializing response!"
                    raise self from None
            self._response_ready = True
        return self._response

    # -- how it prints ---------------------------------------------------------

    def _describe(self, name):
        if not self._core.is_done():
            return "<{} object of in-flight RPC>".format(name)
        outcome = self._finished()
        return ('<{} of RPC that terminated with:\n\tstatus = {}\n\tdetails = "{}"\n'
                '\tdebug_error_string = "{}"\n>').format(
                    name, outcome.code, outcome.details, self.debug_error_string())

    def __str__(self):
        return self._describe(type(self).__name__)

    __repr__ = __str__


class _InactiveRpcError(_CallBase):
    """The RpcError a blocking call raises: the ended call itself."""


class _UnaryCall(_CallBase):
    """The call of ``with_call`` and ``future`` on unary-response methods."""


class _ResponseIterator(_CallBase):
    """What response-streaming calls return: an iterator of responses that
    is also a Call and a Future; when the call fails, iterating raises it
    (it is an RpcError)."""

    def __iter__(self):
        return self

    def __next__(self):
        try:
            data = self._core.recv()
        except BaseException:
            # Ctrl-C while waiting: the call goes with the program.
            self.cancel()
            raise
        if data is not None:
            try:
                return _common.deserialize(data, self._deserializer)
            except _common._DeserializationFailed:  # pylint: disable=protected-access
                self._failed_with(gust.StatusCode.INTERNAL, "Exception deserializing response!")
                raise self from None
        outcome = self._finished()
        if outcome.code is _OK:
            raise StopIteration()
        raise self

    next = __next__

    def result(self, timeout=None):
        if not self._wait(timeout):
            raise gust.FutureTimeoutError()
        if self.cancelled():
            raise gust.FutureCancelledError()
        if self._outcome.code is not _OK:
            raise self
        return None

    def __del__(self):
        core = getattr(self, "_core", None)
        if core is not None and not core.is_done():
            core.cancel(_CANCELLED.value[0], "Cancelled upon garbage collection!")

    def _describe(self, name):
        if not self._core.is_done():
            return "<_MultiThreadedRendezvous object of in-flight RPC>"
        return super()._describe("_MultiThreadedRendezvous")


def _consume_requests(request_iterator, core, serializer):
    """Feeds a call's request stream from `request_iterator`, on a thread of
    its own (as grpcio does)."""

    def consume():
        try:
            iterator = iter(request_iterator)
            while True:
                try:
                    request = next(iterator)
                except StopIteration:
                    break
                except Exception:  # pylint: disable=broad-except
                    _LOGGER.exception("Exception iterating requests!")
                    core.cancel(gust.StatusCode.UNKNOWN.value[0], "Exception iterating requests!")
                    return
                data = _common.serialize(request, serializer)
                if data is None:
                    core.cancel(gust.StatusCode.INTERNAL.value[0], "Exception serializing request!")
                    return
                if not core.send(data):
                    return
            core.close_requests()
        except BaseException:  # pylint: disable=broad-except
            core.cancel(gust.StatusCode.UNKNOWN.value[0], "Exception iterating requests!")
            raise

    thread = threading.Thread(target=consume, name="gust-requests", daemon=True)
    thread.start()


class _MultiCallable:
    def __init__(self, channel, method, request_serializer, response_deserializer):
        self._channel = channel
        self._method = _common.decode(method)
        self._request_serializer = request_serializer
        self._response_deserializer = response_deserializer

    def _start(self, request_data, response_streaming, timeout, metadata, wait_for_ready, compression):
        if self._channel._closed:  # pylint: disable=protected-access
            raise ValueError("Cannot invoke RPC on closed channel!")
        return self._channel._core.start_call(  # pylint: disable=protected-access
            self._method, request_data, response_streaming, metadata, _timeout(timeout),
            bool(wait_for_ready), _common.compression_name(compression))

    def _serialized(self, request):
        data = _common.serialize(request, self._request_serializer)
        if data is None:
            raise _failed_locally(gust.StatusCode.INTERNAL, "Exception serializing request!")
        return data

    def _blocking(self, core, kind):
        """Waits for a unary-response call; returns the call or raises it."""
        try:
            core.wait()
        except BaseException:
            core.cancel()
            raise
        call = kind(core, self._response_deserializer)
        call._wait()  # pylint: disable=protected-access
        if call.code() is not _OK:
            raise _InactiveRpcError(core, self._response_deserializer)
        call._deserialized_response()  # pylint: disable=protected-access
        return call


def _failed_locally(code, details):
    """An RpcError for a call that never left this process."""
    return _LocalRpcError(code, details)


class _LocalRpcError(_CallBase):
    def __init__(self, code, details):  # pylint: disable=super-init-not-called
        gust.RpcError.__init__(self)
        self._outcome = _Outcome((code.value[0], details, [], None))
        self._initial_metadata = ()
        self._cancelled = False
        self._done_callbacks = None
        self._lock = threading.Lock()
        self._response_ready = True
        self._response = None

    def _wait(self, timeout=None):
        return True

    def is_active(self):
        return False

    def time_remaining(self):
        return None

    def cancel(self):
        return False

    def initial_metadata(self):
        return ()

    def running(self):
        return False

    def done(self):
        return True

    def _describe(self, name):
        return '<_InactiveRpcError of RPC that terminated with:\n\tstatus = {}\n\tdetails = "{}"\n>'.format(
            self._outcome.code, self._outcome.details)


class UnaryUnaryMultiCallable(_MultiCallable, gust.UnaryUnaryMultiCallable):
    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        return self.with_call(request, timeout, metadata, credentials, wait_for_ready, compression)[0]

    def with_call(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                  compression=None):
        core = self._start(self._serialized(request), False, timeout, metadata, wait_for_ready, compression)
        call = self._blocking(core, _UnaryCall)
        return call._deserialized_response(), call  # pylint: disable=protected-access

    def future(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
               compression=None):
        try:
            data = self._serialized(request)
        except _LocalRpcError as error:
            return error
        core = self._start(data, False, timeout, metadata, wait_for_ready, compression)
        return _UnaryCall(core, self._response_deserializer)


class UnaryStreamMultiCallable(_MultiCallable, gust.UnaryStreamMultiCallable):
    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        core = self._start(self._serialized(request), True, timeout, metadata, wait_for_ready, compression)
        return _ResponseIterator(core, self._response_deserializer)


class StreamUnaryMultiCallable(_MultiCallable, gust.StreamUnaryMultiCallable):
    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        return self.with_call(request_iterator, timeout, metadata, credentials, wait_for_ready, compression)[0]

    def with_call(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                  compression=None):
        core = self._start(None, False, timeout, metadata, wait_for_ready, compression)
        _consume_requests(request_iterator, core, self._request_serializer)
        call = self._blocking(core, _UnaryCall)
        return call._deserialized_response(), call  # pylint: disable=protected-access

    def future(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
               compression=None):
        core = self._start(None, False, timeout, metadata, wait_for_ready, compression)
        _consume_requests(request_iterator, core, self._request_serializer)
        return _UnaryCall(core, self._response_deserializer)


class StreamStreamMultiCallable(_MultiCallable, gust.StreamStreamMultiCallable):
    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        core = self._start(None, True, timeout, metadata, wait_for_ready, compression)
        _consume_requests(request_iterator, core, self._request_serializer)
        return _ResponseIterator(core, self._response_deserializer)


class Channel(gust.Channel):
    """``gust.insecure_channel(target)`` (plaintext) or
    ``gust.secure_channel(target, ssl_channel_credentials(...))`` (TLS)."""

    def __init__(self, target, options, compression, tls=None):
        options = _common.options_dict(options)
        if compression is None:
            compression = options.get("grpc.default_compression_algorithm")
        if tls is not None:
            tls = types.SimpleNamespace(
                root_certificates=tls.root_certificates, private_key=tls.private_key,
                certificate_chain=tls.certificate_chain,
                server_name=options.get("grpc.ssl_target_name_override"))
        self._target = target
        self._core = _gust.Channel(
            target,
            options.get("grpc.max_receive_message_length"),
            options.get("grpc.max_send_message_length"),
            _common.compression_name(compression),
            tls,
        )
        self._closed = False
        self._subscriptions = []

    def subscribe(self, callback, try_to_connect=False):
        """Calls ``callback(ChannelConnectivity)``: IDLE now, then READY once
        a connection is made (attempted only with ``try_to_connect``)."""
        self._subscriptions.append(callback)
        callback(gust.ChannelConnectivity.IDLE)
        if try_to_connect:
            future = channel_ready_future(self)

            def connected(_future):
                if callback in self._subscriptions and not future.cancelled():
                    callback(gust.ChannelConnectivity.READY)

            future.add_done_callback(connected)

    def unsubscribe(self, callback):
        try:
            self._subscriptions.remove(callback)
        except ValueError:
            pass

    def unary_unary(self, method, request_serializer=None, response_deserializer=None,
                    _registered_method=False):
        return UnaryUnaryMultiCallable(self, method, request_serializer, response_deserializer)

    def unary_stream(self, method, request_serializer=None, response_deserializer=None,
                     _registered_method=False):
        return UnaryStreamMultiCallable(self, method, request_serializer, response_deserializer)

    def stream_unary(self, method, request_serializer=None, response_deserializer=None,
                     _registered_method=False):
        return StreamUnaryMultiCallable(self, method, request_serializer, response_deserializer)

    def stream_stream(self, method, request_serializer=None, response_deserializer=None,
                      _registered_method=False):
        return StreamStreamMultiCallable(self, method, request_serializer, response_deserializer)

    def close(self):
        """Closes the channel: calls in flight end with CANCELLED."""
        self._closed = True
        self._subscriptions = []
        self._core.close()


#: The method a readiness probe calls: no server has it, so any answer
#: (UNIMPLEMENTED) proves the connection works.
_PROBE_METHOD = "/gust.internal.Probe/Ready"


class _ChannelReadyFuture(gust.Future):
    """Completes once a probe call on the channel got through to a server."""

    def __init__(self, channel):
        self._channel = channel
        self._condition = threading.Condition()
        self._matured = False
        self._cancelled = False
        self._callbacks = []
        self._core = None
        threading.Thread(target=self._probe, name="gust-ready", daemon=True).start()

    def _probe(self):
        backoff = 0.05
        while True:
            with self._condition:
                if self._cancelled:
                    return
            try:
                core = self._channel._core.start_call(_PROBE_METHOD, b"", False, None, None, True, None)  # pylint: disable=protected-access
            except ValueError:
                return  # closed channel
            with self._condition:
                self._core = core
            core.wait()
            code = _common.status_code(core.outcome()[0])
            if code is not _CANCELLED:
                break
            with self._condition:
                if self._cancelled:
                    return
            time.sleep(backoff)
            backoff = min(backoff * 2, 1.0)
        with self._condition:
            if self._cancelled:
                return
            self._matured = True
            self._condition.notify_all()
            callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks:
            try:
                callback(self)
            except Exception:  # pylint: disable=broad-except
                _LOGGER.exception('Exception calling connectivity future "done" callback!')

    def cancel(self):
        with self._condition:
            if self._matured:
                return False
            self._cancelled = True
            self._condition.notify_all()
            callbacks, self._callbacks = self._callbacks, None
            core = self._core
        if core is not None:
            core.cancel()
        for callback in callbacks or ():
            try:
                callback(self)
            except Exception:  # pylint: disable=broad-except
                _LOGGER.exception('Exception calling connectivity future "done" callback!')
        return True

    def cancelled(self):
        with self._condition:
            return self._cancelled

    def running(self):
        with self._condition:
            return not self._cancelled and not self._matured

    def done(self):
        with self._condition:
            return self._cancelled or self._matured

    def _block(self, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while not self._cancelled and not self._matured:
                if deadline is None:
                    self._condition.wait(0.1)
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise gust.FutureTimeoutError()
                    self._condition.wait(min(left, 0.1))
            if self._cancelled:
                raise gust.FutureCancelledError()

    def result(self, timeout=None):
        self._block(timeout)

    def exception(self, timeout=None):
        self._block(timeout)

    def traceback(self, timeout=None):
        self._block(timeout)

    def add_done_callback(self, fn):
        with self._condition:
            if self._callbacks is not None:
                self._callbacks.append(fn)
                return
        fn(self)


def channel_ready_future(channel):
    return _ChannelReadyFuture(channel)
