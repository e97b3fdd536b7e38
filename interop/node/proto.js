'use strict';
// Loads the grpc.testing protos (interop/proto, or GUST_INTEROP_PROTO_DIR)
// with @grpc/proto-loader at run time: nothing is generated on disk.

const path = require('path');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = process.env.GUST_INTEROP_PROTO_DIR || path.join(__dirname, '..', 'proto');

function load() {
  const file = path.join('grpc', 'testing', 'test.proto');
  if (!fs.existsSync(path.join(PROTO_DIR, file))) {
    throw new Error(`missing ${path.join(PROTO_DIR, file)}`);
  }
  const definition = protoLoader.loadSync(file, {
    includeDirs: [PROTO_DIR],
    keepCase: true, // field names as in the .proto (response_size, ...)
    longs: String,
    enums: Number,
    defaults: true, // absent scalars read as 0 / '' / empty Buffer
    oneofs: true,
  });
  const testing = grpc.loadPackageDefinition(definition).grpc.testing;
  return { grpc, testing, definition };
}

module.exports = { load, PROTO_DIR };
