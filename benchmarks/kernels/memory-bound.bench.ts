// Memory-bound kernel suite (issue #15): RMSNorm fwd/bwd, AdamW, SwiGLU fwd/bwd, RoPE, residual add,
// log-softmax, embedding gather/scatter, each over tensors larger than a typical L3, with bytes moved as the
// work. Run with `--baseline bandwidth` to get each kernel's share of the native copy bandwidth, timed
// alternately with it call by call (target >= 0.8x). Cases live in memory-cases.ts.
import type { BenchCase, BenchSuite } from '../suite';
import {
  adamwCase,
  bandwidthBaseline,
  embeddingCase,
  logSoftmaxCase,
  residualAddCase,
  rmsnormCase,
  ropeCase,
  swigluCase,
} from './memory-cases';

const suite: BenchSuite = {
  suite: 'memory-bound',
  description: 'memory-bound kernels in bytes moved, against a native STREAM copy of the same bytes (--baseline bandwidth)',
  cases: (): BenchCase[] => [
    rmsnormCase('fwd', 8192, 1024),
    rmsnormCase('bwd', 8192, 1024),
    adamwCase(5_000_000),
    swigluCase('fwd', 8192, 1024),
    swigluCase('bwd', 8192, 1024),
    ropeCase(8, 1024, 16, 64),
    residualAddCase(8192, 1024),
    logSoftmaxCase(2048, 4096),
    embeddingCase('gather', 8192, 1024, 8192),
    embeddingCase('scatter', 8192, 1024, 8192),
  ],
  baselines: { bandwidth: bandwidthBaseline },
};

export default suite;
