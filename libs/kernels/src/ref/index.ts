// The `ref` backend: plain TypeScript kernels with float64 accumulation. Always available.
import { hostBackend, registerBackend } from '../backend';
import { registerKernel } from '../registry';
import { matmulForward } from './matmul';

registerBackend('ref', () => hostBackend('ref', 'ref: plain TypeScript, float64 accumulation'));
registerKernel('matmulForward', 'ref', matmulForward);
