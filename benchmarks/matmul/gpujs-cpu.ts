// gpu.js in its "cpu" mode: the kernel transpiled to plain JavaScript.
import { gpuJsColumn } from '../helpers/gpujs-columns.js';

export default gpuJsColumn({ name: 'gpujs-cpu', mode: 'cpu' });
