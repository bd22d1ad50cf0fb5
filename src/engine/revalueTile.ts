/**
 * The cpu form of revaluation lives in kernels/revalue.ts (`revalueTile`). This re-export keeps the path
 * that src/generate/unitMargins.ts imports until it imports kernels/revalue.ts itself.
 */
export { revalueTile, type RevalueColumns } from '../../kernels/revalue.js';
