#!/usr/bin/env node
'use strict';
// grpc-js interop server: the grpc.testing.TestService peer for gust.
//
// Usage: node interop/node/server.js --port N   (0 picks a free port)
// Prints "listening on PORT" once it serves; runs until SIGTERM/SIGINT.
//
// Implements the server features of the gRPC interop test descriptions that
// grpc-js can express: EmptyCall, UnaryCall, StreamingOutputCall,
// StreamingInputCall, FullDuplexCall, HalfDuplexCall, Echo Status, Echo
// Metadata and ResponseParameters.interval_us.
//
// Not implemented, because grpc-js cannot express them:
// - CompressedResponse (response_compressed, ResponseParameters.compressed):
//   the grpc-js server never compresses what it sends.
// - CompressedRequest (expect_compressed): the grpc-js server decompresses
//   before the handler runs and hides both the per-message compressed flag and
//   the grpc-encoding request header.
// The fields are ignored rather than pretended; scripts/interop.sh marks the
// compression cells against this server n/a.

const { load } = require('./proto');

const { grpc, testing } = load();

const ECHO_INITIAL_KEY = 'x-grpc-test-echo-initial';
const ECHO_TRAILING_KEY = 'x-grpc-test-echo-trailing-bin';

function parseArgs(argv) {
  const args = { port: 0, host: '127.0.0.1', use_tls: 'false' };
  for (let i = 0; i < argv.length; i++) {
    let [key, value] = argv[i].split('=', 2);
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    key = key.slice(2);
    if (value === undefined) value = argv[++i];
    if (!(key in args)) throw new Error(`unknown option --${key}`);
    args[key] = value;
  }
  args.port = Number(args.port);
  if (!Number.isInteger(args.port) || args.port < 0) throw new Error('--port must be a port number');
  if (!['false', '0', 'no'].includes(String(args.use_tls).toLowerCase())) {
    throw new Error('--use_tls=true is not supported by this peer');
  }
  return args;
}

/** Echo Metadata: the initial key goes back as initial metadata, the -bin key as trailing. */
function echoMetadata(call) {
  const initial = call.metadata.get(ECHO_INITIAL_KEY);
  if (initial.length > 0) {
    const md = new grpc.Metadata();
    for (const v of initial) md.add(ECHO_INITIAL_KEY, v);
    call.sendMetadata(md);
  }
  const trailing = new grpc.Metadata();
  for (const v of call.metadata.get(ECHO_TRAILING_KEY)) trailing.add(ECHO_TRAILING_KEY, v);
  return trailing;
}

/** Echo Status: the status error the request asks for, or null. */
function echoStatus(request, trailing) {
  const s = request.response_status;
  if (s && s.code !== 0) return { code: s.code, details: s.message, metadata: trailing };
  return null;
}

function payloadTypeError(request, trailing) {
  if (request.response_type !== 0) {
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: `unsupported response_type ${request.response_type}`,
      metadata: trailing,
    };
  }
  return null;
}

function payload(size) {
  return { type: 0, body: Buffer.alloc(size) };
}

const sleep = (us) => new Promise((resolve) => setTimeout(resolve, us / 1000));

/** Writes the responses one StreamingOutputCallRequest asks for, honouring interval_us. */
async function writeResponses(call, request) {
  for (const params of request.response_parameters) {
    if (params.interval_us > 0) await sleep(params.interval_us);
    if (call.cancelled) return;
    call.write({ payload: payload(params.size) });
  }
}

const handlers = {
  emptyCall(call, callback) {
    const trailing = echoMetadata(call);
    callback(null, {}, trailing);
  },

  unaryCall(call, callback) {
    const trailing = echoMetadata(call);
    const request = call.request;
    const err = echoStatus(request, trailing) || payloadTypeError(request, trailing);
    if (err) return callback(err);
    callback(null, { payload: payload(request.response_size) }, trailing);
  },

  cacheableUnaryCall(call, callback) {
    const trailing = echoMetadata(call);
    callback(null, { payload: { type: 0, body: Buffer.from(String(process.hrtime.bigint())) } }, trailing);
  },

  streamingOutputCall(call) {
    const trailing = echoMetadata(call);
    const request = call.request;
    const err = echoStatus(request, trailing) || payloadTypeError(request, trailing);
    if (err) return call.emit('error', err);
    writeResponses(call, request).then(
      () => call.end(trailing),
      (e) => call.emit('error', { code: grpc.status.INTERNAL, details: String(e) }),
    );
  },

  streamingInputCall(call, callback) {
    const trailing = echoMetadata(call);
    let total = 0;
    call.on('data', (request) => {
      total += request.payload ? request.payload.body.length : 0;
    });
    call.on('end', () => callback(null, { aggregated_payload_size: total }, trailing));
    call.on('error', () => {});
  },

  fullDuplexCall(call) {
    const trailing = echoMetadata(call);
    let chain = Promise.resolve();
    let failed = false;
    call.on('data', (request) => {
      chain = chain.then(async () => {
        if (failed || call.cancelled) return;
        const err = echoStatus(request, trailing) || payloadTypeError(request, trailing);
        if (err) {
          failed = true;
          call.emit('error', err);
          return;
        }
        await writeResponses(call, request);
      });
    });
    call.on('end', () => {
      chain.then(() => {
        if (!failed && !call.cancelled) call.end(trailing);
      });
    });
    call.on('error', () => {});
  },

  halfDuplexCall(call) {
    const trailing = echoMetadata(call);
    const requests = [];
    call.on('data', (request) => requests.push(request));
    call.on('end', async () => {
      for (const request of requests) {
        const err = echoStatus(request, trailing) || payloadTypeError(request, trailing);
        if (err) return call.emit('error', err);
        await writeResponses(call, request);
      }
      if (!call.cancelled) call.end(trailing);
    });
    call.on('error', () => {});
  },
  // unimplementedCall is deliberately absent: grpc-js answers UNIMPLEMENTED.
  // UnimplementedService is not registered at all.
};

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`usage: node server.js --port N\n${e.message}`);
    process.exit(2);
  }
  const server = new grpc.Server();
  server.addService(testing.TestService.service, handlers);
  server.bindAsync(`${args.host}:${args.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`could not bind ${args.host}:${args.port}: ${err.message}`);
      process.exit(1);
    }
    console.log(`listening on ${port}`);
  });
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
