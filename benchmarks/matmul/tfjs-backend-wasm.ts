// TensorFlow.js with its WASM backend (XNNPACK, SIMD) as an outside reference. In
// Node it loads its own .wasm files from the package's dist/ folder. Imported in setup(),
// so that a machine without tfjs skips this column with the reason.
import type { MatmulImpl } from '../matmul.js';

type Tfjs = typeof import('@tensorflow/tfjs-core');
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
let tf: Tfjs;

const impl: MatmulImpl = {
  name: 'tfjs-backend-wasm',
  async setup() {
    try {
      tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      return `tfjs is not installed here (@tensorflow/tfjs-core, @tensorflow/tfjs-backend-wasm): ${(error as Error).message.split('\n')[0]}`;
    }
    try {
      if (!(await tf.setBackend('wasm'))) return 'tf.setBackend("wasm") returned false';
      await tf.ready();
      return null;
    } catch (error) {
      return `tfjs-backend-wasm did not start: ${(error as Error).message}`;
    }
  },
  async prepareMatmul(m, n, k) {
    const a = tf.randomNormal([m, k], 0, 1, 'float32', 1);
    const b = tf.randomNormal([k, n], 0, 1, 'float32', 2);
    // dataSync() waits for the result, so the time includes the whole product.
    return () => tf.tidy(() => void tf.matMul(a, b).dataSync());
  },
  async prepareConv2d({ n, c, h, w, o }) {
    // tfjs is NHWC with [KH, KW, C, O] filters; same work as the NCHW layer.
    const x = tf.randomNormal([n, h, w, c], 0, 1, 'float32', 3) as Tensor4D;
    const f = tf.randomNormal([3, 3, c, o], 0, 1, 'float32', 4) as Tensor4D;
    return () => tf.tidy(() => void tf.conv2d(x, f, 2, 'same').dataSync());
  },
};
export default impl;
