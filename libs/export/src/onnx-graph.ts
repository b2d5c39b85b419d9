// A small ONNX graph builder: named values, nodes with typed attributes, constant and weight initializers,
// typed graph inputs/outputs with symbolic dims, and serialisation to a ModelProto (weights inline, or in
// one external data file when they would pass protobuf's 2 GB limit). Knows no model: onnx-decoder.ts
// builds the decoder with it. Standard-domain ops only, opset 17.
import { basename } from 'node:path';
import { encodeModel, ONNX_IR_VERSION, ONNX_OPSET, OnnxAttrType, OnnxDataType } from './onnx-proto';

export type OnnxElem = (typeof OnnxDataType)[keyof typeof OnnxDataType];
export type Attr = { int: number } | { ints: readonly number[] } | { float: number } | { str: string };

interface Initializer {
  name: string;
  dims: readonly number[];
  dataType: OnnxElem;
  raw: Uint8Array;
}

interface ValueInfo {
  name: string;
  elem: OnnxElem;
  /** a number is a fixed dim, a string a symbolic one */
  dims: readonly (number | string)[];
}

export interface SerializedOnnx {
  model: Uint8Array;
  /** bytes of the external data file (named by `externalDataName`), when weights are stored outside */
  externalData?: Uint8Array[];
}

const EXTERNAL_ALIGN = 4096; // the spec recommends page-aligned offsets for mmap
/** smaller initializers (shape constants, norms of tiny models) stay inline: runtimes need them for shape inference */
const EXTERNAL_MIN_BYTES = 1024;

function attrProto(name: string, a: Attr): Record<string, unknown> {
  if ('int' in a) return { name, type: OnnxAttrType.INT, i: a.int };
  if ('ints' in a) return { name, type: OnnxAttrType.INTS, ints: [...a.ints] };
  if ('float' in a) return { name, type: OnnxAttrType.FLOAT, f: a.float };
  return { name, type: OnnxAttrType.STRING, s: new TextEncoder().encode(a.str) };
}

export class OnnxGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inits: Initializer[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private next = 0;

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    let n: string;
    do n = `${hint}_${this.next++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`onnx: duplicate value name ${name}`);
    this.names.add(name);
    return name;
  }

  input(name: string, elem: OnnxElem, dims: readonly (number | string)[]): string {
    this.inputs.push({ name: this.claim(name), elem, dims });
    return name;
  }

  /** Declare `value` as a graph output named `name` (through an Identity when the names differ). */
  output(value: string, name: string, elem: OnnxElem, dims: readonly (number | string)[]): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', input: [value], output: [this.claim(name)] });
    this.outputs.push({ name, elem, dims });
  }

  /** Add a node; returns its output value names (`nOut` of them). */
  opN(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, nOut = 1): string[] {
    const out = Array.from({ length: nOut }, () => this.fresh(opType.toLowerCase()));
    const attribute = Object.entries(attrs).map(([k, v]) => attrProto(k, v));
    this.nodes.push({ opType, input: [...inputs], output: out, ...(attribute.length ? { attribute } : {}) });
    return out;
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(opType, inputs, attrs, 1)[0];
  }

  initializer(name: string | null, dataType: OnnxElem, dims: readonly number[], raw: Uint8Array): string {
    const n = name === null ? this.fresh('const') : this.claim(name);
    this.inits.push({ name: n, dims, dataType, raw });
    return n;
  }

  /** int64 constant; `dims` [] makes a scalar */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(null, OnnxDataType.INT64, dims, new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer));
  }

  f32(values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): string {
    return this.initializer(null, OnnxDataType.FLOAT, dims, new Uint8Array(Float32Array.from(values).buffer));
  }

  get weightBytes(): number {
    return this.inits.reduce((a, t) => a + t.raw.length, 0);
  }

  /**
   * Serialise to ModelProto bytes. With `externalDataPath` set, the bytes of every initializer of at least
   * 1 KiB go to that file (its basename is recorded as `location`, so it must sit beside the model file).
   */
  serialize(opts: { externalDataPath?: string; docString?: string; metadata?: Record<string, string> } = {}): SerializedOnnx {
    const external: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.inits.map((t) => {
      const base = { name: t.name, dims: [...t.dims], dataType: t.dataType };
      if (!opts.externalDataPath || t.raw.length < EXTERNAL_MIN_BYTES) return { ...base, rawData: t.raw };
      const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      if (pad) external.push(new Uint8Array(pad));
      offset += pad;
      external.push(t.raw);
      const entry = [
        { key: 'location', value: basename(opts.externalDataPath) },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(t.raw.length) },
      ];
      offset += t.raw.length;
      return { ...base, dataLocation: 1, externalData: entry };
    });
    const vi = (v: ValueInfo): Record<string, unknown> => ({
      name: v.name,
      type: {
        tensorType: { elemType: v.elem, shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
      },
    });
    const model = {
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'lwz-train',
      producerVersion: '0.1.0',
      ...(opts.docString ? { docString: opts.docString } : {}),
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs.map(vi), output: this.outputs.map(vi) },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return { model: encodeModel(model), ...(opts.externalDataPath ? { externalData: external } : {}) };
  }
}
