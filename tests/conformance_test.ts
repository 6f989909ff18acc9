/**
 * The conformance suite: every registered kernel, WebGPU path (the software adapter here) against the f64
 * CPU path over the fixture matrix, chunked (a forced small binding limit) against unchunked, and the
 * no-look-ahead property for causal kernels on both paths.
 */
import { strict as assert } from "node:assert";
import { KERNELS } from "../kernels/registry.ts";
import { parseParams } from "../kernels/kernel.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { assertClose, fixtureMatrix, inputScale, logPrice, returns } from "./data.ts";

setLogLevel("warn");
const gpu = await sharedGpu();
// 16 KiB bindings: a 20,000-point series needs several chunks (with halos) in every kernel.
const small = gpu.withLimits({ maxBindingBytes: 1 << 14 });

/** Parameter sets per kernel: short and long windows, short (direct) and long (FFT) filters. */
const opts = { sanitizeResources: false, sanitizeOps: false };

for (const kernel of KERNELS.values()) {
  assert.ok(kernel.conformance.length > 0, `no conformance parameters for kernel ${kernel.name}`);
  for (const raw of kernel.conformance) {
    const p = parseParams(kernel, raw);
    const label = `${kernel.name} ${JSON.stringify(raw)}`;
    const history = kernel.history(p);

    Deno.test(`${label}: WebGPU matches the f64 path on the fixture matrix`, opts, async () => {
      const cases = fixtureMatrix(kernel.inputs, history);
      const outs = (await kernel.gpu(gpu, cases.map((c) => c.inputs), [p])).map((o) => o[0]);
      cases.forEach((c, i) => {
        const ref = kernel.cpu(c.inputs, p);
        assertClose(outs[i], ref, kernel.tolerance, `${label} on ${c.name}`, inputScale(c.inputs));
        if (c.inputs[0].length > history + 1 && !/NaN|constant/.test(c.name)) {
          assert.ok(ref.some((v) => !Number.isNaN(v)), `${label} on ${c.name}: all NaN`);
        }
      });
    });

    Deno.test(`${label}: a series longer than one binding gives the unchunked result`, opts, async () => {
      const n = 20_000;
      const inputs = kernel.inputs === 1 ? [logPrice(n, 21)] : [returns(n, 22), returns(n, 23)];
      const [[chunked]] = await kernel.gpu(small, [inputs], [p]);
      const [[whole]] = await kernel.gpu(gpu, [inputs], [p]);
      assertClose(chunked, whole, kernel.tolerance, `${label} chunked vs whole`, inputScale(inputs));
      assertClose(
        chunked,
        kernel.cpu(inputs, p),
        kernel.tolerance,
        `${label} chunked vs f64`,
        inputScale(inputs),
      );
    });

    if (kernel.causal(p)) {
      Deno.test(
        `${label}: no look-ahead (changing inputs after t leaves outputs up to t)`,
        opts,
        async () => {
          const n = 2000, t = 1000;
          const base = kernel.inputs === 1 ? [logPrice(n, 31)] : [returns(n, 32), returns(n, 33)];
          // The future is replaced by wildly different values: any dependence on it would show.
          const changed = base.map((x, j) =>
            x.map((v, i) => (i <= t ? v : 50 + 100 * Math.sin(i * (j + 1))))
          );
          const [a, b] = [kernel.cpu(base, p), kernel.cpu(changed, p)];
          // FFT convolution rounds over whole blocks, so outputs before t may move by ~1e-14 (never more:
          // the future values differ wildly, a real dependence would move them by O(1)).
          assertClose(
            b.subarray(0, t + 1),
            a.subarray(0, t + 1),
            { atol: 1e-12, rtol: 1e-12 },
            `${label}: f64 path looks ahead`,
          );
          const [[ga], [gb]] = await kernel.gpu(gpu, [base, changed], [p]);
          const what = `${label}: WebGPU path looks ahead`;
          assertClose(gb.subarray(0, t + 1), ga.subarray(0, t + 1), kernel.tolerance, what, inputScale(base));
          assert.ok(
            b.subarray(t + 1).some((v, i) => v !== a[t + 1 + i] && !Number.isNaN(v)),
            "the change had no effect",
          );
        },
      );
    }
  }
}
