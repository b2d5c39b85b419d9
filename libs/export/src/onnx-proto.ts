// The subset of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto,
// TypeProto, TensorShapeProto) that our exporter writes, declared for protobufjs with the field numbers of
// onnx/onnx's onnx.proto. Field names are camelCase (protobufjs style); on the wire only numbers count.
// Not a full ONNX library: no sparse tensors, functions, training info, or decoding helpers beyond tests.
import protobuf from 'protobufjs';

const rep = (type: string, id: number): { rule: 'repeated'; type: string; id: number } => ({ rule: 'repeated', type, id });
const one = (type: string, id: number): { type: string; id: number } => ({ type, id });

const schema = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: one('string', 1), value: one('string', 2) } },
        OperatorSetIdProto: { fields: { domain: one('string', 1), version: one('int64', 2) } },
        TensorProto: {
          fields: {
            dims: rep('int64', 1),
            dataType: one('int32', 2),
            name: one('string', 8),
            rawData: one('bytes', 9),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: one('int32', 14),
          },
        },
        Dimension: { fields: { dimValue: one('int64', 1), dimParam: one('string', 2) } },
        TensorShapeProto: { fields: { dim: rep('Dimension', 1) } },
        TypeProtoTensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
        TypeProto: { fields: { tensorType: one('TypeProtoTensor', 1) } },
        ValueInfoProto: { fields: { name: one('string', 1), type: one('TypeProto', 2), docString: one('string', 3) } },
        AttributeProto: {
          fields: {
            name: one('string', 1),
            type: one('int32', 20),
            f: one('float', 2),
            i: one('int64', 3),
            s: one('bytes', 4),
            t: one('TensorProto', 5),
            floats: rep('float', 7),
            ints: rep('int64', 8),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: one('string', 3),
            opType: one('string', 4),
            domain: one('string', 7),
            attribute: rep('AttributeProto', 5),
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: one('string', 2),
            initializer: rep('TensorProto', 5),
            docString: one('string', 10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
          },
        },
        ModelProto: {
          fields: {
            irVersion: one('int64', 1),
            opsetImport: rep('OperatorSetIdProto', 8),
            producerName: one('string', 2),
            producerVersion: one('string', 3),
            docString: one('string', 6),
            graph: one('GraphProto', 7),
            metadataProps: rep('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values we use */
export const OnnxDataType = { FLOAT: 1, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
/** AttributeProto.AttributeType values we use */
export const OnnxAttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;
/** IR version 8 goes with opset 17 (onnx 1.12) */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** Encode a plain ModelProto object (camelCase fields as above) to bytes, after protobufjs verification. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new Error(`onnx: invalid ModelProto: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decode bytes back into a plain object (longs as numbers, bytes as Uint8Array); for tests. */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
