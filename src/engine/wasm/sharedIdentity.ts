import { Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

const sharedConfigs = new WeakSet<KernelConfig>();

/**
 * Whether `config` was made by {@link createSharedIdentityConfig}.
 *
 * @example
 * ```ts
 * if (!isSharedIdentityConfig(current)) tf.registerKernel(createSharedIdentityConfig(current));
 * ```
 */
export function isSharedIdentityConfig(config: KernelConfig): boolean {
  return sharedConfigs.has(config);
}

interface RefCounting {
  incRef(dataId: object): void;
}

/**
 * Wraps the wasm backend's own `Identity` kernel (`original`) with one that
 * shares the input's buffer, adding a reference, instead of copying it: what
 * the cpu backend's `Identity` and the wasm backend's own `Reshape` do.
 *
 * Why it matters: tfjs's engine clones, through `Identity`, every tensor it
 * saves for a backward pass, and the stock wasm kernel copies the data. A
 * gradient therefore holds its saved activations twice on wasm. Sharing is
 * safe because tfjs tensors are never written in place (`Variable.assign`
 * rebinds the variable to new data). Measured on the paper's 9.5M-parameter
 * addition model, an exact JVP of 500 probe tokens' losses: wasm heap
 * 2502 → 1809 MB, 6.8 → 4.2 s, the same values bit for bit.
 *
 * Delegates to `original` for strings and for a backend without `incRef`.
 *
 * @param original - the config registered by `@tensorflow/tfjs-backend-wasm` for `Identity`.
 * @example
 * ```ts
 * const original = tf.getKernel('Identity', 'wasm')!;
 * tf.unregisterKernel('Identity', 'wasm');
 * tf.registerKernel(createSharedIdentityConfig(original));
 * ```
 */
export function createSharedIdentityConfig(original: KernelConfig): KernelConfig {
  if (original.kernelName !== Identity || original.backendName !== 'wasm') {
    throw new Error(
      `createSharedIdentityConfig: option 'original' must be the wasm Identity kernel, got ${original.kernelName}/${original.backendName}`,
    );
  }
  const fallback = original.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    const backend = args.backend as Partial<RefCounting>;
    if (x.dtype === 'string' || typeof backend.incRef !== 'function') return fallback(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const config: KernelConfig = { ...original, kernelFunc };
  sharedConfigs.add(config);
  return config;
}
