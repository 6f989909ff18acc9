/** The runtime: chunk planning, GPU failures surfacing as GpuError, and `auto` falling back to the CPU path. */
import { strict as assert } from "node:assert";
import { rollingMean } from "../kernels/rolling_moments.ts";
import { runKernel } from "../kernels/kernel.ts";
import { openCompute, sharedGpu, withFallback } from "../runtime/backend.ts";
import { GpuError } from "../runtime/errors.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { type LogLevel, setLogSink } from "../runtime/log.ts";
import { planSegments } from "../runtime/segments.ts";
import { logPrice } from "./data.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Runs `f` capturing log records. */
async function capture<T>(f: () => Promise<T>): Promise<[T, { level: LogLevel; msg: string }[]]> {
  const logs: { level: LogLevel; msg: string }[] = [];
  const prev = setLogSink((level, msg) => logs.push({ level, msg }));
  try {
    return [await f(), logs];
  } finally {
    setLogSink(prev);
  }
}

Deno.test("planSegments covers every point once, each segment with its halo", () => {
  for (
    const [n, halo, max] of [[0, 5, 10], [1, 0, 1], [10, 0, 3], [1000, 199, 256], [1000, 9, 1000], [
      1001,
      9,
      1000,
    ]]
  ) {
    const segs = planSegments(0, n, halo, max);
    let next = 0;
    for (const s of segs) {
      assert.equal(s.keepFrom, next);
      assert.ok(s.end - s.start <= max && s.end > s.keepFrom);
      assert.equal(s.start, Math.max(0, s.keepFrom - halo));
      next = s.end;
    }
    assert.equal(next, n);
  }
  assert.throws(() => planSegments(0, 100, 50, 50), GpuError);
});

Deno.test(
  "a window larger than the memory budget allows is a GpuError; auto falls back to the CPU path",
  opts,
  async () => {
    const rt = await sharedGpu({ memoryBudget: 64 * 1024 });
    const x = logPrice(20_000);
    const p = { window: 5000 };
    await assert.rejects(
      rollingMean.gpu(rt, [[x]], [p]),
      (e: Error) => e instanceof GpuError && /does not fit/.test(e.message),
    );
    const compute = { choice: "auto" as const, gpu: rt };
    const [[out], logs] = await capture(() => runKernel(rollingMean, [[x]], p, compute));
    assert.deepEqual(out, rollingMean.cpu([x], p));
    assert.ok(
      logs.some((l) => l.level === "warn" && /falling back to the CPU path/.test(l.msg)),
      JSON.stringify(logs),
    );
    await assert.rejects(runKernel(rollingMean, [[x]], p, { choice: "webgpu", gpu: rt }), GpuError);
  },
);

Deno.test("a lost device is reported as a GpuError and auto falls back", opts, async () => {
  const rt = await GpuRuntime.create();
  const x = logPrice(1000);
  rt.device.destroy();
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(
    rollingMean.gpu(rt, [[x]], [{ window: 10 }]),
    (e: Error) => e instanceof GpuError && /lost/.test(e.message),
  );
  const [[out], logs] = await capture(() =>
    runKernel(rollingMean, [[x]], { window: 10 }, { choice: "auto", gpu: rt })
  );
  assert.deepEqual(out, rollingMean.cpu([x], { window: 10 }));
  assert.ok(logs.some((l) => l.level === "warn"));
});

Deno.test("a WebGPU validation error surfaces as a GpuError with the message", opts, async () => {
  const rt = await sharedGpu();
  const pipe = await rt.pipeline("rolling_moments", { MODE: 0 });
  const b = rt.batch();
  const s = b.storage(64);
  // Bindings are checked by name before WebGPU sees them...
  assert.throws(
    () => b.dispatchNamed(pipe, { x: s }, [1, 1]),
    /rolling_moments\.wgsl: binding segs not given/,
  );
  // ...and what only WebGPU checks (a storage buffer bound as the uniform) comes back from the batch.
  b.dispatchNamed(pipe, { x: s, segs: s, out: s, scratch: s, P: s }, [1, 1]);
  await assert.rejects(b.run(), (e: Error) => e instanceof GpuError && e.kind === "validation");
  await assert.rejects(rt.pipeline("no_such_shader"), GpuError);
});

Deno.test(
  "backend choice: cpu never touches the GPU; withFallback rethrows non-GPU errors",
  opts,
  async () => {
    const [compute, logs] = await capture(() => openCompute({ backend: "cpu" }));
    assert.equal(compute.gpu, null);
    assert.ok(logs.some((l) => /backend: cpu/.test(l.msg)));
    const rt = await sharedGpu();
    await assert.rejects(
      withFallback({ choice: "auto", gpu: rt }, "x", () => Promise.reject(new TypeError("bug")), () => 1),
      TypeError,
    );
    assert.equal(
      await withFallback({ choice: "auto", gpu: null }, "x", () => Promise.resolve(0), () => 2),
      2,
    );
  },
);

Deno.test("one log line names the adapter in use", opts, async () => {
  const [rt, logs] = await capture(() => GpuRuntime.create());
  const lines = logs.filter((l) => l.msg.startsWith("WebGPU adapter: "));
  assert.equal(lines.length, 1);
  assert.ok(lines[0].msg.includes(rt.adapterName) && rt.adapterName.length > 0);
  rt.destroy();
});

Deno.test(
  "auto uses a hardware adapter, and the CPU path on a software adapter (faster there)",
  opts,
  async () => {
    const rt = await sharedGpu();
    const [compute, logs] = await capture(() => openCompute({ backend: "auto" }));
    assert.equal(compute.gpu === null, rt.isSoftware);
    if (rt.isSoftware) assert.ok(logs.some((l) => /software adapter/.test(l.msg)));
    const forced = await openCompute({ backend: "webgpu" });
    assert.ok(forced.gpu);
  },
);

Deno.test(
  "a window past the software adapter's loop limit is a GpuError; auto computes it on the CPU",
  opts,
  async () => {
    const rt = await sharedGpu();
    if (!rt.isSoftware) return;
    const x = logPrice(70_000);
    const p = { window: 40_000 };
    await assert.rejects(
      rollingMean.gpu(rt, [[x]], [p]),
      (e: Error) => e instanceof GpuError && /65,535/.test(e.message),
    );
    const [[out]] = await capture(() => runKernel(rollingMean, [[x]], p, { choice: "auto", gpu: rt }));
    assert.deepEqual(out, rollingMean.cpu([x], p));
  },
);
