"""The server: grpcio's ``grpc.Server`` on gust's Rust core.

Rust accepts connections and calls; for each call it hands a
``_gust.ServerCall`` to ``Server._dispatch`` (on a gust thread, with the GIL),
which submits ``_serve`` to the server's executor. ``_serve`` finds the
method's handler, runs it with a ``ServicerContext``, and moves messages
through the ServerCall, whose blocking methods release the GIL.
"""

import collections
import logging
import threading
import traceback
import warnings
import weakref

import gust
from gust import _common
from gust import _gust

_LOGGER = logging.getLogger("gust")

_OK = gust.StatusCode.OK
_UNKNOWN = gust.StatusCode.UNKNOWN
_INTERNAL = gust.StatusCode.INTERNAL
_UNIMPLEMENTED = gust.StatusCode.UNIMPLEMENTED


class _HandlerCallDetails(
    collections.namedtuple("_HandlerCallDetails", ("method", "invocation_metadata")),
    gust.HandlerCallDetails,
):
    pass


class _Aborted(Exception):
    """Raised by ``context.abort()`` to end the handler; the status was set."""


class _CallState:
    """What the handler did to the call's outcome (as grpcio's _RPCState)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.code = None
        self.details = None
        self.trailing_metadata = None
        self.initial_metadata_allowed = True
        self.statused = False
        self.aborted = False
        self.disable_next_compression = False
        #: None once the call terminated (callbacks ran).
        self.callbacks = []
        #: The RpcErrors the request iterator raised because the call ended:
        #: a handler that lets one escape is not reported as failing.
        self.rpc_errors = []


class _Context(gust.ServicerContext):
    """The ``context`` argument of handlers."""

    def __init__(self, call, state):
        self._call = call
        self._state = state
        self._invocation_metadata = None
        if not call.set_termination_callback(self._terminated):
            state.callbacks = None

    def _terminated(self):
        with self._state.lock:
            callbacks, self._state.callbacks = self._state.callbacks, None
        for callback in callbacks or ():
            try:
                callback()
            except Exception:  # pylint: disable=broad-except
                _LOGGER.exception("Exception calling callback!")

    def is_active(self):
        return not self._state.statused and not self._call.is_terminated()

    def time_remaining(self):
        return self._call.time_remaining()

    def cancel(self):
        self._call.cancel()

    def add_callback(self, callback):
        with self._state.lock:
            if self._state.callbacks is None:
                return False
            self._state.callbacks.append(callback)
            return True

    def disable_next_message_compression(self):
        with self._state.lock:
            self._state.disable_next_compression = True

    def invocation_metadata(self):
        if self._invocation_metadata is None:
            self._invocation_metadata = _common.metadata(self._call.invocation_metadata())
        return self._invocation_metadata

    def peer(self):
        return self._call.peer()

    def peer_identities(self):
        return None

    def peer_identity_key(self):
        return None

    def auth_context(self):
        return {}

    def set_compression(self, compression):
        name = _common.compression_name(compression)
        if name is not None:
            self._call.set_compression(name)

    def send_initial_metadata(self, initial_metadata):
        with self._state.lock:
            if self._call.is_terminated():
                _raise_rpc_error(self._state)
            if not self._state.initial_metadata_allowed:
                raise ValueError("Initial metadata no longer allowed!")
            self._state.initial_metadata_allowed = False
        self._call.send_initial_metadata(initial_metadata)

    def set_trailing_metadata(self, trailing_metadata):
        with self._state.lock:
            self._state.trailing_metadata = trailing_metadata

    def trailing_metadata(self):
        return self._state.trailing_metadata

    def abort(self, code, details):
        if code == _OK:
            _LOGGER.error("abort() called with StatusCode.OK; returning UNKNOWN")
            code = _UNKNOWN
            details = ""
        with self._state.lock:
            self._state.code = code
            self._state.details = _common.encode(details)
            self._state.aborted = True
        raise _Aborted()

    def abort_with_status(self, status):
        self._state.trailing_metadata = status.trailing_metadata
        self.abort(status.code, status.details)

    def set_code(self, code):
        with self._state.lock:
            self._state.code = code

    def code(self):
        return self._state.code

    def set_details(self, details):
        with self._state.lock:
            self._state.details = _common.encode(details)

    def details(self):
        return self._state.details


def _raise_rpc_error(state):
    error = gust.RpcError()
    state.rpc_errors.append(error)
    raise error


def _finish(call, state, code, details, message=None):
    """Ends the call once: the status, trailing metadata and maybe a last
    message."""
    with state.lock:
        if state.statused:
            return
        state.statused = True
        trailing = state.trailing_metadata
    call.finish(_common.code_number(code), _common.decode(details or b""), trailing, message)


def _complete(call, state, message=None):
    """Ends the call as the handler left it: OK unless it set a code."""
    code = _OK if state.code is None else state.code
    _finish(call, state, code, state.details, message)


def _abort(call, state, code, details):
    """Ends the call with an error; a code and details the handler set win."""
    if state.code is not None:
        code = state.code
    if state.details is not None:
        details = state.details
    _finish(call, state, code, details)


class _RequestIterator:
    """The ``request_iterator`` of request-streaming handlers."""

    def __init__(self, call, state, deserializer):
        self._call = call
        self._state = state
        self._deserializer = deserializer

    def __iter__(self):
        return self

    def __next__(self):
        try:
            data = self._call.recv()
        except _gust.CallTerminated:
            _raise_rpc_error(self._state)
        if data is None:
            raise StopIteration()
        try:
            return _common.deserialize(data, self._deserializer)
        except _common._DeserializationFailed:  # pylint: disable=protected-access
            _abort(self._call, self._state, _INTERNAL, "Exception deserializing request!")
            _raise_rpc_error(self._state)

    next = __next__


def _unary_request(call, state, deserializer):
    """The request of a unary-request call; None (the call ended) if there is
    none to give."""
    try:
        data = call.recv()
    except _gust.CallTerminated:
        return None
    if data is None:
        _abort(call, state, _UNIMPLEMENTED, '"{}" requires exactly one request message.'.format(call.method))
        return None
    try:
        return _common.deserialize(data, deserializer)
    except _common._DeserializationFailed:  # pylint: disable=protected-access
        _abort(call, state, _INTERNAL, "Exception deserializing request!")
        return None


def _handler_failed(call, state, exception, what):
    """A handler (or its response iterator) raised: ends the call as grpcio does."""
    if state.aborted:
        _abort(call, state, _UNKNOWN, "RPC Aborted")
    elif any(exception is error for error in state.rpc_errors) or call.is_terminated():
        # The call had ended under the handler: nothing to report.
        pass
    else:
        try:
            details = "{}: {}".format(what, exception)
        except Exception:  # pylint: disable=broad-except
            details = "Calling application raised unprintable Exception!"
        _LOGGER.exception(details)
        _abort(call, state, _UNKNOWN, details)


def _serialize_response(call, state, response, serializer):
    data = _common.serialize(response, serializer)
    if data is None:
        _abort(call, state, _INTERNAL, "Failed to serialize response!")
    return data


def _send_response(call, state, data):
    with state.lock:
        if state.statused or call.is_terminated():
            return False
        state.initial_metadata_allowed = False
        compress = not state.disable_next_compression
        state.disable_next_compression = False
    return call.send(data, compress)


def _serve(server, call):
    """Runs one call's handler (on the server's executor)."""
    state = _CallState()
    try:
        handler = server._find_handler(call)  # pylint: disable=protected-access
    except Exception as exception:  # pylint: disable=broad-except
        _LOGGER.exception("Exception servicing handler: %s", exception)
        _finish(call, state, _UNKNOWN, "Error in service handler!")
        return
    if handler is None:
        _finish(call, state, _UNIMPLEMENTED, "Method not found!")
        return
    context = _Context(call, state)
    try:
        if handler.request_streaming:
            argument = _RequestIterator(call, state, handler.request_deserializer)
            behavior = handler.stream_stream if handler.response_streaming else handler.stream_unary
        else:
            argument = _unary_request(call, state, handler.request_deserializer)
            if argument is None:
                return
            behavior = handler.unary_stream if handler.response_streaming else handler.unary_unary
        try:
            result = behavior(argument, context)
        except Exception as exception:  # pylint: disable=broad-except
            _handler_failed(call, state, exception, "Exception calling application")
            return
        if not handler.response_streaming:
            data = _serialize_response(call, state, result, handler.response_serializer)
            if data is not None:
                _complete(call, state, data)
            return
        while True:
            try:
                response = next(result)
            except StopIteration:
                response = None
            except Exception as exception:  # pylint: disable=broad-except
                _handler_failed(call, state, exception, "Exception iterating responses")
                return
            if response is None:
                _complete(call, state)
                return
            data = _serialize_response(call, state, response, handler.response_serializer)
            if data is None or not _send_response(call, state, data):
                return
    except Exception:  # pylint: disable=broad-except
        traceback.print_exc()
        _finish(call, state, _UNKNOWN, "Error in gust while serving the call")


def _service_name(handler):
    service_name = getattr(handler, "service_name", None)
    if callable(service_name):
        try:
            name = service_name()
        except Exception:  # pylint: disable=broad-except
            return None
        return name if isinstance(name, str) else None
    return None


#: Servers to stop when the interpreter exits (see gust._exit).
_LIVE_SERVERS = weakref.WeakSet()


class Server(gust.Server):
    """``gust.server(...)``: grpcio's server API on gust."""

    def __init__(self, thread_pool, handlers, interceptors, options, maximum_concurrent_rpcs, compression):
        options = _common.options_dict(options)
        self_ref = weakref.ref(self)

        def dispatch(call):
            server = self_ref()
            if server is None:
                call.finish(gust.StatusCode.UNAVAILABLE.value[0], "server stopped")
            else:
                server._dispatch(call)  # pylint: disable=protected-access

        self._core = _gust.ServerCore(
            dispatch,
            maximum_concurrent_rpcs,
            options.get("grpc.max_receive_message_length"),
            options.get("grpc.max_send_message_length"),
        )
        self._thread_pool = thread_pool
        self._lock = threading.RLock()
        self._generic_handlers = []
        self._registered_handlers = {}
        self._interceptors = tuple(interceptors or ())
        for interceptor in self._interceptors:
            if not isinstance(interceptor, gust.ServerInterceptor):
                raise TypeError("interceptor must be a grpc.ServerInterceptor")
        self._compression = _common.compression_name(
            compression if compression is not None else options.get("grpc.default_compression_algorithm"))
        if handlers:
            self.add_generic_rpc_handlers(handlers)
        _LIVE_SERVERS.add(self)

    def _dispatch(self, call):
        """Starts a call's handler on the executor (runs on a gust thread)."""
        try:
            self._thread_pool.submit(_serve, self, call)
        except Exception as exception:  # pylint: disable=broad-except
            _LOGGER.error("cannot submit a call to the server's executor: %s", exception)
            call.finish(gust.StatusCode.UNAVAILABLE.value[0], "server's executor is not accepting calls")

    def _find_handler(self, call):
        method = call.method
        with self._lock:
            registered = self._registered_handlers.get(method)
            generic_handlers = tuple(self._generic_handlers)

        def query(details):
            if registered is not None:
                return registered
            for generic_handler in generic_handlers:
                handler = generic_handler.service(details)
                if handler is not None:
                    return handler
            return None

        if registered is not None and not self._interceptors:
            handler = registered
        else:
            details = _HandlerCallDetails(method, _common.metadata(call.invocation_metadata()))
            lookup = query
            for interceptor in reversed(self._interceptors):
                lookup = _intercepted(interceptor, lookup)
            handler = lookup(details)
        if handler is not None and self._compression is not None:
            call.set_compression(self._compression)
        return handler

    def _add_service(self, name):
        if not self._core.add_service(name):
            warnings.warn(
                "gust: handlers for service {!r} were added after start(); gust routes only the services "
                "known when the server starts, so calls to it get UNIMPLEMENTED".format(name),
                RuntimeWarning, stacklevel=3)

    def add_generic_rpc_handlers(self, generic_rpc_handlers):
        for handler in generic_rpc_handlers:
            if not hasattr(handler, "service"):
                raise AttributeError(
                    '"{}" must conform to grpc.GenericRpcHandler type but does not have "service" method!'
                    .format(handler))
        with self._lock:
            self._generic_handlers.extend(generic_rpc_handlers)
        for handler in generic_rpc_handlers:
            name = _service_name(handler)
            if name is None:
                warnings.warn(
                    "gust: generic handler {!r} has no service_name(): gust routes calls by service name, "
                    "so it can serve only services registered by other handlers".format(handler),
                    RuntimeWarning, stacklevel=2)
            else:
                self._add_service(name)

    def add_registered_method_handlers(self, service_name, method_handlers):
        with self._lock:
            for method, handler in method_handlers.items():
                self._registered_handlers["/{}/{}".format(service_name, method)] = handler
        self._add_service(service_name)

    def add_insecure_port(self, address):
        return self._core.add_port(_common.decode(address))

    def add_secure_port(self, address, server_credentials):
        tls = getattr(server_credentials, "_credentials", None)
        if tls is None:
            return self.add_insecure_port(address)
        return self._core.add_port(_common.decode(address), tls.certificate_chain, tls.private_key,
                                   tls.root_certificates, tls.require_client_auth)

    def start(self):
        self._core.start()

    def stop(self, grace):
        """Stops serving: calls in flight get ``grace`` seconds (none if
        None) to finish. Returns a threading.Event set once stopped."""
        event = threading.Event()
        if not self._core.stop(grace, event.set):
            event.set()
        return event

    def wait_for_termination(self, timeout=None):
        """Blocks until the server stopped or ``timeout`` seconds passed;
        True if the time ran out."""
        return not self._core.wait(timeout)

    def __del__(self):
        core = getattr(self, "_core", None)
        if core is not None:
            core.stop(None)


def _intercepted(interceptor, continuation):
    def lookup(details):
        return interceptor.intercept_service(continuation, details)

    return lookup


def _stop_all_servers():
    """At interpreter exit, before executors are joined: cancel the calls
    still running, so handlers blocked on them return."""
    for server in list(_LIVE_SERVERS):
        try:
            server.stop(None)
        except Exception:  # pylint: disable=broad-except
            pass
