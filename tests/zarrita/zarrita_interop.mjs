// zarrita.js (tests/zarrita/package.json pins the version) against zarr v3
// arrays in a directory, driven by tests/zarrita/test_zarrita_interop.py.
//
//   node zarrita_interop.mjs read DIR   -- every array of DIR/specs.json opens
//       with zarrita and equals DIR/<name>.bin; exit 1 naming each mismatch
//   node zarrita_interop.mjs write DIR  -- zarrita creates every array of
//       DIR/specs.json with its `codecs` and writes its first `rows` rows
//       from DIR/<name>.bin (the rest stays unwritten: fill value)
//
// Each spec: name, dtype (a zarr v3 data_type), shape, chunks, fill (the
// fill_value as in zarr.json), rows, codecs (write only). <name>.bin is the
// whole expected array, C order, little-endian, bool as one byte.
import * as fs from "node:fs";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

const TYPED = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array,
  uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array,
  uint64: BigUint64Array, int64: BigInt64Array, float32: Float32Array, float64: Float64Array,
};

function reference(root, spec) {
  const bytes = fs.readFileSync(`${root}/${spec.name}.bin`);
  const T = TYPED[spec.dtype];
  return new T(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function cStrides(shape) {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// The chunk's values in C order as the reference's typed array (BoolArray ->
// its bytes); zarrita hands out transposed strides for a transpose codec.
function valuesInCOrder(spec, { data, shape, stride }) {
  const values = spec.dtype === "bool"
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data;
  const out = new values.constructor(values.length);
  const c = cStrides(shape);
  for (let i = 0; i < out.length; i++) {
    let at = 0;
    for (let d = 0; d < shape.length; d++) at += Math.floor(i / c[d]) % shape[d] * stride[d];
    out[i] = values[at];
  }
  return out;
}

function firstDifference(got, want) {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const a = got[i], b = want[i];
    if (a !== b && !(a !== a && b !== b)) return `element ${i}: got ${a}, want ${b}`;
  }
  return null;
}

async function readAll(root, specs) {
  const store = new FileSystemStore(root);
  let bad = 0;
  for (const spec of specs) {
    let why;
    try {
      const arr = await zarr.open(zarr.root(store).resolve(spec.name), { kind: "array" });
      if (arr.dtype !== spec.dtype) why = `dtype ${arr.dtype}, want ${spec.dtype}`;
      else if (JSON.stringify(arr.shape) !== JSON.stringify(spec.shape))
        why = `shape ${arr.shape}, want ${spec.shape}`;
      else {
        why = firstDifference(valuesInCOrder(spec, await zarr.get(arr)), reference(root, spec));
      }
    } catch (err) {
      why = `zarrita failed: ${err.stack || err}`;
    }
    if (why) {
      console.error(`MISMATCH ${spec.name}: ${why}`);
      bad++;
    }
  }
  return bad;
}

async function writeAll(root, specs) {
  const store = new FileSystemStore(root);
  for (const spec of specs) {
    const arr = await zarr.create(zarr.root(store).resolve(spec.name), {
      shape: spec.shape, dtype: spec.dtype, chunkShape: spec.chunks,
      codecs: spec.codecs, fillValue: spec.fill,
    });
    const shape = [spec.rows, ...spec.shape.slice(1)];
    const n = shape.reduce((a, b) => a * b, 1);
    const head = reference(root, spec).slice(0, n);
    const data = spec.dtype === "bool" ? new zarr.BoolArray(head.buffer) : head;
    await zarr.set(arr, [zarr.slice(0, spec.rows), ...spec.shape.slice(1).map(() => null)],
                   { data, shape, stride: cStrides(shape) });
  }
  return 0;
}

const [cmd, root] = process.argv.slice(2);
const specs = JSON.parse(fs.readFileSync(`${root}/specs.json`, "utf8"));
const run = { read: readAll, write: writeAll }[cmd];
if (!run) {
  console.error("usage: node zarrita_interop.mjs read|write DIR");
  process.exit(2);
}
process.exit(await run(root, specs));
