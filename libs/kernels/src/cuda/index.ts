// The `cuda` backend: a lazy factory. Nothing CUDA happens at import: the addon is loaded, the device started
// and the kernels registered the first time something asks for the backend (backendStatus, a cuda tensor,
// LWZ_DEVICE=cuda); when that fails the backend is reported unavailable with the reason, without warnings
// (a machine without a GPU is the normal case), and the CPU path never touches it.
import { registerBackend } from '../backend';
import { registerKernel } from '../registry';
import { cudaBackendFactory } from './device';
import { loadCudaAddon } from './native';

registerBackend(
  'cuda',
  cudaBackendFactory(
    () => loadCudaAddon(),
    (entries) => {
      for (const [name, fn] of entries) registerKernel(name, 'cuda', fn as never);
    },
  ),
);
