// The ONNX model's structure, decoded without a runtime: the opset and IR version the graph's ops are
// written for (ReduceMean/Split with attribute axes: opset <= 17), f16 storage for matrices only, and the
// external data layout (page-aligned offsets in one file named by basename, small initializers inline).
import { buildDecoderOnnx } from './onnx-decoder';
import { OnnxGraph } from './onnx-graph';
import { decodeModel, OnnxDataType } from './onnx-proto';
import { randomWeights, tinyConfig } from './testing/fixtures';

type Init = { name: string; dataType: number; dims: number[]; rawData?: Uint8Array; externalData?: { key: string; value: string }[] };
const initializers = (m: Record<string, unknown>): Init[] => (m.graph as { initializer: Init[] }).initializer;

describe('ONNX model structure', () => {
  it('declares opset 17 with IR version 8 and stores f16 matrices but f32 norms and biases', () => {
    const c = tinyConfig();
    const m = decodeModel(buildDecoderOnnx(c, randomWeights(c, 2), 'logits', 'f16').serialize().model);
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport).toEqual([{ domain: '', version: 17 }]); // the default (ai.onnx) domain
    const byName = new Map(initializers(m).map((t) => [t.name, t]));
    const q = byName.get('model.layers.0.self_attn.q_proj.weight');
    expect(q?.dataType).toBe(10); // FLOAT16
    expect(q?.dims).toEqual([c.hiddenSize, c.numHeads * c.headDim]); // stored transposed: (in, out)
    expect(byName.get('model.layers.0.self_attn.q_proj.bias')?.dataType).toBe(1); // FLOAT
    expect(byName.get('model.norm.weight')?.dataType).toBe(1);
    expect(byName.get('model.layers.1.post_attention_layernorm.weight')?.dataType).toBe(1);
  });

  it("adds the config's rms_norm_eps in every RMSNorm (two per layer and the final one)", () => {
    const c = tinyConfig({ rmsNormEps: 0.125 });
    const m = decodeModel(buildDecoderOnnx(c, randomWeights(c, 2), 'logits', 'f32').serialize().model);
    const scalars = initializers(m).filter((t) => t.dataType === 1 && t.rawData?.length === 4);
    const eps = scalars.filter((t) => Buffer.from(t.rawData as Uint8Array).readFloatLE(0) === 0.125);
    expect(eps).toHaveLength(2 * c.numLayers + 1);
  });

  it('puts initializers of 1 KiB and more in the external file at 4096-aligned offsets, smaller ones inline', () => {
    const g = new OnnxGraph('t');
    g.initializer('a', OnnxDataType.FLOAT, [300], new Uint8Array(1200).fill(1));
    g.initializer('small', OnnxDataType.FLOAT, [2], new Uint8Array(8).fill(2));
    g.initializer('b', OnnxDataType.FLOAT, [256], new Uint8Array(1024).fill(3));
    const out = g.serialize({ externalDataPath: '/some/dir/weights.bin' });
    const inits = initializers(decodeModel(out.model));
    const ext = (t: Init) => Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    expect(ext(inits[0])).toEqual({ location: 'weights.bin', offset: '0', length: '1200' });
    expect(inits[1].externalData).toBeUndefined();
    expect(Array.from(inits[1].rawData ?? [])).toEqual(new Array(8).fill(2));
    expect(ext(inits[2])).toEqual({ location: 'weights.bin', offset: '4096', length: '1024' });
    const file = Buffer.concat(out.externalData ?? []);
    expect(file.length).toBe(4096 + 1024);
    expect([file[0], file[1199], file[1200], file[4095], file[4096], file[5119]]).toEqual([1, 1, 0, 0, 3, 3]);
  });
});
