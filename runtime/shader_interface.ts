/**
 * A shader's interface read from its WGSL: the group-0 bindings by name, and the uniform struct's scalar
 * fields with their byte offsets. The WGSL is then the one declaration: dispatch (`Batch.dispatchNamed`) binds
 * buffers by name and packs the uniform from named values, so a renamed, reordered or missing binding or field
 * is an error naming the shader and the name — not a silently wrong buffer or a misread uniform byte.
 */
import { GpuError } from "./errors.ts";

/** A uniform field: a 4-byte scalar at `offset` (WGSL lays scalars out 4-byte aligned, in order). */
export interface UniformField {
  /** Field name in the WGSL struct. */
  name: string;
  /** Its scalar type. */
  type: "u32" | "i32" | "f32";
  /** Byte offset in the struct. */
  offset: number;
}

/** What dispatch needs to know of a shader. */
export interface ShaderInterface {
  /** The shader's name (`shaders/<shader>.wgsl`). */
  shader: string;
  /** `@group(0) @binding(i) var<...> name` declarations: binding index by variable name. */
  bindings: ReadonlyMap<string, number>;
  /** The `var<uniform>` binding, when there is one: its variable name and its struct's fields. */
  uniform?: { name: string; fields: UniformField[]; bytes: number };
}

const BINDING = /@group\(0\)\s*@binding\((\d+)\)\s*var(?:<([^>]*)>)?\s+(\w+)\s*:\s*([\w<>, ]+?)\s*;/g;

/** Parses the interface of `wgsl` (includes already expanded). Throws GpuError for an unsupported uniform. */
export function parseShaderInterface(shader: string, wgsl: string): ShaderInterface {
  const code = wgsl.replace(/\/\/[^\n]*/g, "");
  const bindings = new Map<string, number>();
  let uniform: ShaderInterface["uniform"];
  for (const m of code.matchAll(BINDING)) {
    const [, index, space, name, type] = m;
    bindings.set(name, Number(index));
    if (space?.trim() === "uniform") uniform = { name, ...structLayout(shader, code, type.trim()) };
  }
  return { shader, bindings, uniform };
}

function structLayout(shader: string, code: string, type: string): { fields: UniformField[]; bytes: number } {
  const m = new RegExp(`struct\\s+${type}\\s*\\{([^}]*)\\}`).exec(code);
  if (!m) {
    throw new GpuError(`shader ${shader}.wgsl: uniform type ${type} is not a struct in the file`, "internal");
  }
  const fields = m[1].split(",").map((f) => f.trim()).filter(Boolean).map((f, i) => {
    const [name, t] = f.split(":").map((s) => s.trim());
    if (t !== "u32" && t !== "i32" && t !== "f32") {
      throw new GpuError(
        `shader ${shader}.wgsl: uniform field ${type}.${name} is ${t}; only u32, i32 and f32 fields are packed`,
        "internal",
      );
    }
    return { name, type: t, offset: 4 * i } as UniformField;
  });
  return { fields, bytes: Math.ceil((4 * fields.length) / 16) * 16 };
}

/**
 * Packs named values into the uniform struct's bytes: every field must be given (fields named `pad...`, which
 * only align the struct, are zero), and nothing else.
 */
export function packUniform(iface: ShaderInterface, values: Record<string, number>): ArrayBuffer {
  const u = iface.uniform;
  if (!u) throw new GpuError(`shader ${iface.shader}.wgsl has no uniform binding`, "internal");
  const buf = new ArrayBuffer(u.bytes);
  const view = new DataView(buf);
  const unknown = Object.keys(values).filter((k) => !u.fields.some((f) => f.name === k));
  if (unknown.length) {
    throw new GpuError(
      `shader ${iface.shader}.wgsl: uniform ${u.name} has no field ${unknown.join(", ")} (fields: ${
        u.fields.map((f) => f.name).join(", ")
      })`,
      "internal",
    );
  }
  for (const f of u.fields) {
    const v = values[f.name] ?? (f.name.startsWith("pad") ? 0 : undefined);
    if (v === undefined) {
      throw new GpuError(
        `shader ${iface.shader}.wgsl: uniform field ${u.name}.${f.name} not given`,
        "internal",
      );
    }
    if (f.type === "f32") view.setFloat32(f.offset, v, true);
    else if (f.type === "i32") view.setInt32(f.offset, v, true);
    else view.setUint32(f.offset, v, true);
  }
  return buf;
}

/**
 * The buffers in binding order for `named` (null: a binding the entry point does not use). A name the shader
 * does not declare, or a declared binding left out, is an error naming it.
 */
export function orderBindings(
  iface: ShaderInterface,
  named: Record<string, GPUBuffer | null>,
): (GPUBuffer | null)[] {
  const out: (GPUBuffer | null)[] = [];
  for (const [name, buffer] of Object.entries(named)) {
    const at = iface.bindings.get(name);
    if (at === undefined) {
      throw new GpuError(
        `shader ${iface.shader}.wgsl has no binding ${name} (bindings: ${
          [...iface.bindings.keys()].join(", ")
        })`,
        "internal",
      );
    }
    out[at] = buffer;
  }
  for (const [name, at] of iface.bindings) {
    if (out[at] === undefined) {
      throw new GpuError(`shader ${iface.shader}.wgsl: binding ${name} not given`, "internal");
    }
  }
  return Array.from(out, (b) => b ?? null);
}
