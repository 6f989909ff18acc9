/**
 * `garchEvalFull` in WebAssembly (kernels/garch_eval.wat, shipped as bytes in kernels/garch_eval_wasm.ts): the
 * same f64 operations in the same order as the TypeScript loop it replaced (kept as the reference in
 * tests/garch_eval_test.ts), so the same bits, 1.3-1.8x faster on 10,000 returns (the module computes each
 * observation's 1/s2_t and the factors of its sums one step ahead, off the recursion's critical path).
 * The series is copied into the module's memory on each call; the logs of the block products are taken here.
 */
import { UsageError } from "../runtime/errors.ts";
import { GARCH_EVAL_WASM_BASE64 } from "./garch_eval_wasm.ts";

/** Log-likelihood with its derivatives. */
export interface GarchEval {
  ll: number;
  /** Gradient (4). */
  g: Float64Array;
  /** Hessian of LL, packed lower triangle (10, garch_core `TRI` order). */
  h: Float64Array;
  /** Sum of per-observation score outer products, packed (10). */
  opg: Float64Array;
}

interface EvalModule {
  memory: WebAssembly.Memory;
  full: (n: number, x: number, pb: number, out: number, ...args: number[]) => void;
}

/** The thread's instance, made on first use. */
let instance: EvalModule | undefined;

const LOG2PI = Math.log(2 * Math.PI);

/** The instance with `x` in its memory, and the byte offsets of the block products and of the sums. */
function load(x: Float64Array): { m: EvalModule; pb: number; out: number } {
  if (!instance) {
    const bytes = Uint8Array.from(atob(GARCH_EVAL_WASM_BASE64), (ch) => ch.charCodeAt(0));
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    instance = { memory: exports.memory as WebAssembly.Memory, full: exports.full as EvalModule["full"] };
  }
  const n = x.length, pb = 8 * (n + 1), out = pb + 8 * (n >> 3);
  const pages = Math.ceil((out + 8 * 26) / 65536) - instance.memory.buffer.byteLength / 65536;
  try {
    if (pages > 0) instance.memory.grow(pages);
  } catch {
    throw new UsageError(
      `garch: a fit window of ${n} returns needs more WebAssembly memory than the runtime grants`,
    );
  }
  new Float64Array(instance.memory.buffer, 0, n).set(x);
  return { m: instance, pb, out };
}

/**
 * Log-likelihood, analytic gradient, analytic Hessian and score outer product at `th` (f64), for pre-sample
 * value b with db = dB/dmu and d2b = d2B/dmu2.
 */
export function garchEvalFull(
  x: Float64Array,
  th: ArrayLike<number>,
  b: number,
  db: number,
  d2b: number,
): GarchEval {
  const { m, pb, out } = load(x);
  const n = x.length;
  m.full(n, 0, pb, out, th[0], th[1], th[2], th[3], b, db, d2b);
  const buf = m.memory.buffer, s = new Float64Array(buf, out, 26), blocks = new Float64Array(buf, pb, n >> 3);
  let logs = 0;
  for (let k = 0; k < blocks.length; k++) logs += Math.log(blocks[k]);
  return {
    ll: -0.5 * (n * LOG2PI + logs + Math.log(s[1]) + s[0]),
    g: s.slice(2, 6),
    h: s.slice(6, 16),
    opg: s.slice(16, 26),
  };
}
