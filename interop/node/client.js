#!/usr/bin/env node
'use strict';
// grpc-js interop client: runs one standard gRPC interop test case.
//
// Usage:
//   node interop/node/client.js --server_host H --server_port P --test_case NAME
//                               [--soak_iterations N]
//
// Exit status: 0 the case passed; 1 it failed (the reason is printed on
// stderr); 77 the case cannot be expressed with grpc-js ("n/a: <why>" on
// stdout). A pass that could only check part of what the case asks for prints
// "partial: <what was not checked>" on stdout and exits 0.
//
// The cases follow doc/interop-test-descriptions.md of the gRPC project.

const { load } = require('./proto');

const { grpc, testing } = load();
const { status } = grpc;

const EXIT_NA = 77;
// Upper bound for any single RPC, so that a hang is reported as a failure of
// this case and not as the harness's timeout.
const RPC_TIMEOUT_MS = 20000;
// Value of the grpc.default_compression_algorithm channel option for gzip.
const GZIP = 2;
// grpc-js write flag: send this message uncompressed.
const WRITE_NO_COMPRESS = 2;

const ECHO_INITIAL = ['x-grpc-test-echo-initial', 'test_initial_metadata_value'];
const ECHO_TRAILING = ['x-grpc-test-echo-trailing-bin', Buffer.from([0xab, 0xab, 0xab])];

class TestFailure extends Error {}
class NotApplicable extends Error {}
class Partial extends Error {}

const statusName = (code) => Object.keys(status).find((k) => status[k] === code) || String(code);
const deadline = (ms = RPC_TIMEOUT_MS) => ({ deadline: Date.now() + ms });

function check(cond, message) {
  if (!cond) throw new TestFailure(message);
}

function describe(err) {
  if (err && typeof err.code === 'number' && 'details' in err) {
    return `RPC failed with ${statusName(err.code)}: ${JSON.stringify(err.details)}`;
  }
  return err && err.message ? err.message : String(err);
}

/** Awaits promise, which must reject with an RPC error of the given code (and details). */
async function expectRpcError(promise, code, details, what) {
  try {
    await promise;
  } catch (err) {
    if (!(err && typeof err.code === 'number')) throw err;
    check(err.code === code,
      `${what}: expected status ${statusName(code)}, got ${statusName(err.code)}: ${JSON.stringify(err.details)}`);
    if (details !== undefined) {
      check(err.details === details,
        `${what}: expected status message ${JSON.stringify(details)}, got ${JSON.stringify(err.details)}`);
    }
    return err;
  }
  throw new TestFailure(`${what}: expected status ${statusName(code)}, but the call succeeded`);
}

const payload = (size) => ({ type: 0, body: Buffer.alloc(size) });

function checkPayload(p, size, what) {
  check(p && p.body, `${what}: response has no payload`);
  check(p.body.length === size, `${what}: payload body is ${p.body.length} bytes, expected ${size}`);
  check(p.body.every((b) => b === 0), `${what}: payload body is not all zeros`);
}

const largeUnaryRequest = (extra = {}) => ({
  response_type: 0, response_size: 314159, payload: payload(271828), ...extra,
});

/** A unary call as a promise of {response, initial, trailing}. */
function unary(client, method, request, metadata = new grpc.Metadata(), options = deadline()) {
  return new Promise((resolve, reject) => {
    let initial = null;
    let response;
    let error;
    const call = client[method](request, metadata, options, (err, res) => {
      error = err;
      response = res;
    });
    call.on('metadata', (md) => { initial = md; });
    call.on('status', (s) => {
      if (error) reject(error);
      else resolve({ response, initial, trailing: s.metadata });
    });
  });
}

/** Collects a response stream: a promise of {responses, initial, trailing}; rejects with the status error. */
function collect(call) {
  return new Promise((resolve, reject) => {
    const responses = [];
    let initial = null;
    let error = null;
    call.on('metadata', (md) => { initial = md; });
    call.on('data', (r) => responses.push(r));
    call.on('error', (e) => { error = e; });
    call.on('status', (s) => {
      if (error || s.code !== status.OK) reject(error || s);
      else resolve({ responses, initial, trailing: s.metadata });
    });
  });
}

/** A client-streaming call: writes requests (each [message, flags?]) then half-closes. */
function clientStream(client, requests, options = deadline()) {
  return new Promise((resolve, reject) => {
    const call = client.streamingInputCall(new grpc.Metadata(), options, (err, res) => {
      if (err) reject(err);
      else resolve(res);
    });
    for (const [message, flags] of requests) {
      if (flags === undefined) call.write(message);
      else call.write(message, flags);
    }
    call.end();
  });
}

/** Reads a duplex call's responses one at a time. */
class Reader {
  constructor(call) {
    this.queue = [];
    this.waiters = [];
    this.done = null;
    call.on('data', (r) => this.push({ value: r }));
    call.on('error', (e) => this.finish({ error: e }));
    call.on('status', (s) => this.finish(s.code === status.OK ? { end: true } : { error: s }));
  }
  push(item) {
    const w = this.waiters.shift();
    if (w) w(item);
    else this.queue.push(item);
  }
  finish(item) {
    if (this.done) return;
    this.done = item;
    for (const w of this.waiters.splice(0)) w(item);
  }
  /** Resolves to the next response, or null at the end of a stream that ended OK; rejects on error. */
  async next() {
    const item = this.queue.length ? this.queue.shift()
      : this.done ? this.done : await new Promise((resolve) => this.waiters.push(resolve));
    if (item.error) throw item.error;
    return item.end ? null : item.value;
  }
}

// ---------------------------------------------------------------------------- cases

const cases = {
  async empty_unary({ client }) {
    const { response } = await unary(client, 'emptyCall', {});
    check(response !== null && typeof response === 'object', `response is not an Empty: ${response}`);
  },

  async large_unary({ client }) {
    const { response } = await unary(client, 'unaryCall', largeUnaryRequest());
    checkPayload(response.payload, 314159, 'UnaryCall response');
  },

  async client_streaming({ client }) {
    const sizes = [27182, 8, 1828, 45904];
    const res = await clientStream(client, sizes.map((s) => [{ payload: payload(s) }]));
    check(res.aggregated_payload_size === 74922,
      `aggregated_payload_size is ${res.aggregated_payload_size}, expected 74922`);
  },

  async server_streaming({ client }) {
    const sizes = [31415, 9, 2653, 58979];
    const call = client.streamingOutputCall({
      response_type: 0, response_parameters: sizes.map((size) => ({ size })),
    }, new grpc.Metadata(), deadline());
    const { responses } = await collect(call);
    check(responses.length === sizes.length, `got ${responses.length} responses, expected ${sizes.length}`);
    responses.forEach((r, i) => checkPayload(r.payload, sizes[i], `response ${i}`));
  },

  async ping_pong({ client }) {
    const pairs = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]];
    const call = client.fullDuplexCall(new grpc.Metadata(), deadline());
    const reader = new Reader(call);
    try {
      for (const [i, [responseSize, payloadSize]] of pairs.entries()) {
        call.write({
          response_type: 0, response_parameters: [{ size: responseSize }], payload: payload(payloadSize),
        });
        const r = await reader.next();
        check(r !== null, `stream ended after ${i} responses, expected 4`);
        checkPayload(r.payload, responseSize, `response ${i}`);
      }
      call.end();
      check(await reader.next() === null, 'got a fifth response, expected exactly 4');
    } finally {
      call.end();
    }
  },

  async empty_stream({ client }) {
    const call = client.fullDuplexCall(new grpc.Metadata(), deadline());
    const done = collect(call);
    call.end();
    const { responses } = await done;
    check(responses.length === 0, `got ${responses.length} responses, expected none`);
  },

  async custom_metadata({ client }) {
    const md = () => {
      const m = new grpc.Metadata();
      m.add(...ECHO_INITIAL);
      m.add(...ECHO_TRAILING);
      return m;
    };
    const checkEcho = (initial, trailing, what) => {
      const got = initial ? initial.get(ECHO_INITIAL[0]) : [];
      check(got.length === 1 && got[0] === ECHO_INITIAL[1],
        `${what}: initial metadata ${ECHO_INITIAL[0]} is ${JSON.stringify(got)}, expected ["${ECHO_INITIAL[1]}"]`);
      const bin = trailing ? trailing.get(ECHO_TRAILING[0]) : [];
      check(bin.length === 1 && Buffer.isBuffer(bin[0]) && bin[0].equals(ECHO_TRAILING[1]),
        `${what}: trailing metadata ${ECHO_TRAILING[0]} is ${JSON.stringify(bin)}, expected [0xababab]`);
    };

    const u = await unary(client, 'unaryCall', largeUnaryRequest(), md());
    checkPayload(u.response.payload, 314159, 'UnaryCall response');
    checkEcho(u.initial, u.trailing, 'UnaryCall');

    const call = client.fullDuplexCall(md(), deadline());
    const done = collect(call);
    call.write({ response_type: 0, response_parameters: [{ size: 314159 }], payload: payload(271828) });
    call.end();
    const d = await done;
    check(d.responses.length === 1, `FullDuplexCall: got ${d.responses.length} responses, expected 1`);
    checkPayload(d.responses[0].payload, 314159, 'FullDuplexCall response');
    checkEcho(d.initial, d.trailing, 'FullDuplexCall');
  },

  async status_code_and_message({ client }) {
    const message = 'test status message';
    const response_status = { code: 2, message };
    await expectRpcError(unary(client, 'unaryCall', { response_status }), status.UNKNOWN, message, 'UnaryCall');
    const call = client.fullDuplexCall(new grpc.Metadata(), deadline());
    const done = collect(call);
    call.write({ response_status });
    call.end();
    await expectRpcError(done, status.UNKNOWN, message, 'FullDuplexCall');
  },

  async special_status_message({ client }) {
    const message = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n';
    await expectRpcError(unary(client, 'unaryCall', { response_status: { code: 2, message } }),
      status.UNKNOWN, message, 'UnaryCall');
  },

  async unimplemented_method({ client }) {
    await expectRpcError(callEmpty(client, '/grpc.testing.TestService/UnimplementedCall'),
      status.UNIMPLEMENTED, undefined, 'TestService/UnimplementedCall');
  },

  async unimplemented_service({ client }) {
    await expectRpcError(callEmpty(client, '/grpc.testing.UnimplementedService/UnimplementedCall'),
      status.UNIMPLEMENTED, undefined, 'UnimplementedService/UnimplementedCall');
  },

  async cancel_after_begin({ client }) {
    const result = new Promise((resolve, reject) => {
      const call = client.streamingInputCall(new grpc.Metadata(), deadline(), (err, res) => {
        if (err) reject(err);
        else resolve(res);
      });
      call.cancel();
    });
    await expectRpcError(result, status.CANCELLED, undefined, 'StreamingInputCall after cancel');
  },

  async cancel_after_first_response({ client }) {
    const call = client.fullDuplexCall(new grpc.Metadata(), deadline());
    const reader = new Reader(call);
    call.write({ response_type: 0, response_parameters: [{ size: 31415 }], payload: payload(27182) });
    const first = await reader.next();
    check(first !== null, 'stream ended before the first response');
    checkPayload(first.payload, 31415, 'first response');
    call.cancel();
    await expectRpcError((async () => { while (await reader.next() !== null); })(),
      status.CANCELLED, undefined, 'FullDuplexCall after cancel');
  },

  async timeout_on_sleeping_server({ client }) {
    const call = client.fullDuplexCall(new grpc.Metadata(), deadline(1));
    const done = collect(call);
    call.on('error', () => {});
    call.write({ payload: payload(27182) }, () => {});
    await expectRpcError(done, status.DEADLINE_EXCEEDED, undefined, 'FullDuplexCall');
  },

  async client_compressed_unary({ client, makeClient }) {
    const gzipClient = makeClient({ 'grpc.default_compression_algorithm': GZIP });
    try {
      await expectRpcError(
        unary(client, 'unaryCall', largeUnaryRequest({ expect_compressed: { value: true } })),
        status.INVALID_ARGUMENT, undefined, 'probe (uncompressed request, expect_compressed=true)');
      const c = await unary(gzipClient, 'unaryCall', largeUnaryRequest({ expect_compressed: { value: true } }));
      checkPayload(c.response.payload, 314159, 'compressed call response');
      const u = await unary(client, 'unaryCall', largeUnaryRequest({ expect_compressed: { value: false } }));
      checkPayload(u.response.payload, 314159, 'uncompressed call response');
    } finally {
      gzipClient.close();
    }
  },

  async client_compressed_streaming({ client, makeClient }) {
    const gzipClient = makeClient({ 'grpc.default_compression_algorithm': GZIP });
    try {
      await expectRpcError(
        clientStream(client, [[{ expect_compressed: { value: true }, payload: payload(27182) }]]),
        status.INVALID_ARGUMENT, undefined, 'probe (uncompressed message, expect_compressed=true)');
      const res = await clientStream(gzipClient, [
        [{ expect_compressed: { value: true }, payload: payload(27182) }],
        [{ expect_compressed: { value: false }, payload: payload(45904) }, WRITE_NO_COMPRESS],
      ]);
      check(res.aggregated_payload_size === 73086,
        `aggregated_payload_size is ${res.aggregated_payload_size}, expected 73086`);
    } finally {
      gzipClient.close();
    }
  },

  async server_compressed_unary({ client }) {
    for (const value of [true, false]) {
      const { response } = await unary(client, 'unaryCall', largeUnaryRequest({ response_compressed: { value } }));
      checkPayload(response.payload, 314159, `response (response_compressed=${value})`);
    }
    throw new Partial(FLAG_NOT_SEEN);
  },

  async server_compressed_streaming({ client }) {
    const call = client.streamingOutputCall({
      response_type: 0,
      response_parameters: [
        { size: 31415, compressed: { value: true } },
        { size: 92653, compressed: { value: false } },
      ],
    }, new grpc.Metadata(), deadline());
    const { responses } = await collect(call);
    check(responses.length === 2, `got ${responses.length} responses, expected 2`);
    checkPayload(responses[0].payload, 31415, 'response 0');
    checkPayload(responses[1].payload, 92653, 'response 1');
    throw new Partial(FLAG_NOT_SEEN);
  },

  async rpc_soak(ctx) {
    await soak(ctx, false);
  },

  async channel_soak(ctx) {
    await soak(ctx, true);
  },
};

const FLAG_NOT_SEEN = 'grpc-js cannot observe whether a response was compressed (it hides the per-message '
  + 'flag and the grpc-encoding header): checked only that the responses arrive intact, '
  + 'not that the server compressed them';

function callEmpty(client, path) {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, () => Buffer.alloc(0), () => ({}), {}, new grpc.Metadata(), deadline(),
      (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function soak(ctx, freshChannel) {
  const failures = [];
  for (let i = 0; i < ctx.args.soak_iterations; i++) {
    const client = freshChannel ? ctx.makeClient({}) : ctx.client;
    try {
      await cases.large_unary({ client });
    } catch (err) {
      failures.push(`iteration ${i}: ${describe(err)}`);
    } finally {
      if (freshChannel) client.close();
    }
  }
  check(failures.length <= ctx.args.soak_max_failures,
    `${failures.length} of ${ctx.args.soak_iterations} iterations failed `
    + `(at most ${ctx.args.soak_max_failures} allowed): ${failures.slice(0, 5).join('; ')}`);
}

function parseArgs(argv) {
  const args = {
    server_host: '127.0.0.1', server_host_override: '', server_port: '', test_case: '',
    use_tls: 'false', soak_iterations: '10', soak_max_failures: '0',
  };
  for (let i = 0; i < argv.length; i++) {
    let [key, value] = argv[i].split(/=(.*)/s, 2);
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    key = key.slice(2);
    if (value === undefined) value = argv[++i];
    if (!(key in args)) throw new Error(`unknown option --${key}`);
    args[key] = value;
  }
  if (!args.server_port) throw new Error('--server_port is required');
  if (!args.test_case) throw new Error('--test_case is required');
  if (!(args.test_case in cases)) {
    throw new Error(`unknown --test_case ${args.test_case}; known: ${Object.keys(cases).join(', ')}`);
  }
  if (!['false', '0', 'no'].includes(String(args.use_tls).toLowerCase())) {
    throw new Error('--use_tls=true is not supported by this peer');
  }
  args.soak_iterations = Number(args.soak_iterations);
  args.soak_max_failures = Number(args.soak_max_failures);
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`usage: node client.js --server_host H --server_port P --test_case NAME\n${e.message}`);
    process.exit(2);
  }
  const target = `${args.server_host}:${args.server_port}`;
  const makeClient = (options) => new testing.TestService(target, grpc.credentials.createInsecure(), {
    ...(args.server_host_override ? { 'grpc.default_authority': args.server_host_override } : {}),
    ...options,
  });
  const client = makeClient({});
  const name = args.test_case;
  let code = 0;
  try {
    await cases[name]({ client, makeClient, args });
    console.log(`PASS ${name}`);
  } catch (err) {
    if (err instanceof NotApplicable) {
      console.log(`n/a: ${err.message}`);
      code = EXIT_NA;
    } else if (err instanceof Partial) {
      console.log(`partial: ${err.message}`);
      console.log(`PASS ${name} (partial)`);
    } else if (err instanceof TestFailure || (err && typeof err.code === 'number')) {
      console.error(`FAIL ${name}: ${describe(err)}`);
      code = 1;
    } else {
      console.error(err && err.stack ? err.stack : err);
      console.error(`FAIL ${name}: unexpected exception (stack above)`);
      code = 1;
    }
  } finally {
    client.close();
  }
  process.exit(code);
}

main();
