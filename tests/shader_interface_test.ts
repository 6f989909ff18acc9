/**
 * Shader interfaces read from the WGSL (runtime/shader_interface.ts): every shader parses, its bindings are
 * 0..k-1 without gaps, and binding buffers or packing a uniform by name refuses what the shader does not
 * declare and what it declares but was not given, naming the shader and the name.
 */
import { strict as assert } from "node:assert";
import { loadShader } from "../runtime/shaders.ts";
import { orderBindings, packUniform, parseShaderInterface } from "../runtime/shader_interface.ts";
import { GpuError } from "../runtime/errors.ts";

const SHADERS = new URL("../shaders/", import.meta.url);

Deno.test("shader interfaces: every shader's bindings and uniform struct parse", async () => {
  let withBindings = 0;
  for await (const e of Deno.readDir(SHADERS)) {
    const name = e.name.replace(/\.wgsl$/, "");
    const iface = parseShaderInterface(name, await loadShader(name));
    const indices = [...iface.bindings.values()].sort((a, b) => a - b);
    assert.deepEqual(indices, indices.map((_, i) => i), `${name}: bindings ${indices} have a gap`);
    if (indices.length) withBindings++;
    if (iface.uniform) {
      assert.ok(
        iface.bindings.has(iface.uniform.name),
        `${name}: uniform ${iface.uniform.name} is a binding`,
      );
      assert.equal(iface.uniform.bytes % 16, 0);
      assert.ok(iface.uniform.bytes >= 4 * iface.uniform.fields.length);
    }
  }
  assert.ok(withBindings >= 20, `only ${withBindings} shaders with bindings found`);
});

Deno.test("shader interfaces: named bindings and uniform fields are checked and packed as the WGSL lays out", () => {
  const wgsl = `
    struct Params { window: u32, ddof: f32, shift: i32, pad: u32 }
    @group(0) @binding(0) var<storage, read> x: array<f32>;
    @group(0) @binding(2) var<uniform> P: Params; // comments are ignored
    @group(0) @binding(1) var<storage, read_write> out: array<f32>;
  `;
  const iface = parseShaderInterface("demo", wgsl);
  assert.deepEqual([...iface.bindings], [["x", 0], ["P", 2], ["out", 1]]);
  const bytes = new DataView(packUniform(iface, { window: 20, ddof: 1, shift: -3 }));
  assert.equal(bytes.byteLength, 16);
  assert.equal(bytes.getUint32(0, true), 20);
  assert.equal(bytes.getFloat32(4, true), 1);
  assert.equal(bytes.getInt32(8, true), -3);
  assert.equal(bytes.getUint32(12, true), 0, "pad fields are zero");

  const a = {} as GPUBuffer, b = {} as GPUBuffer, u = {} as GPUBuffer;
  assert.deepEqual(orderBindings(iface, { out: b, P: u, x: a }), [a, b, u]);
  assert.deepEqual(orderBindings(iface, { out: null, P: u, x: a }), [a, null, u]);
  const refuses = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: Error) => e instanceof GpuError && re.test(e.message), re.source);
  refuses(
    () => orderBindings(iface, { x: a, out: b, P: u, y: a }),
    /demo\.wgsl has no binding y \(bindings: x, P, out\)/,
  );
  refuses(() => orderBindings(iface, { x: a, P: u }), /demo\.wgsl: binding out not given/);
  refuses(() => packUniform(iface, { window: 20, ddof: 1 }), /uniform field P\.shift not given/);
  refuses(() => packUniform(iface, { window: 20, ddof: 1, shift: 0, windows: 3 }), /has no field windows/);
  refuses(
    () => parseShaderInterface("vec", "struct Q { a: vec4<f32> }\n@group(0) @binding(0) var<uniform> P: Q;"),
    /vec\.wgsl: uniform field Q\.a is vec4<f32>/,
  );
});
