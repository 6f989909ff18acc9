/**
 * Worker for tests/fuzz_test.ts: decodes each mutant it is sent with `decodeFrame`, in a worker so that the
 * test can stop a mutant that hangs (terminate) and go on. Replies with the frame or the error's name/message.
 */
import { decodeFrame } from "../io/read.ts";

/** A decode request: file name (used for the format and in messages) and the bytes. */
export interface FuzzRequest {
  id: number;
  name: string;
  bytes: Uint8Array;
  /** As `decodeFrame`'s option: "nan" for files with text cells on purpose. */
  badValues?: "error" | "nan";
}

/** The outcome of one decode: the frame's shape and values, or the error thrown. */
export type FuzzResult =
  | {
    id: number;
    ok: true;
    rows: number;
    timestampColumn?: string;
    timestamps?: Float64Array;
    columns: [string, Float64Array][];
    skipped: string[];
  }
  | { id: number; ok: false; error: string; message: string };

/** What the worker posts: a result, or (once, first) that it is ready. */
export type FuzzReply = FuzzResult | { id: 0; ready: true };

const scope = self as unknown as {
  onmessage: (e: MessageEvent<FuzzRequest>) => void;
  postMessage: (m: FuzzReply) => void;
};
// Sent once the imports are loaded, so that the test's per-mutant timeout never counts the worker's start.
scope.postMessage({ id: 0, ready: true });
scope.onmessage = async ({ data: { id, name, bytes, badValues } }) => {
  try {
    const f = await decodeFrame(bytes, name, { badValues });
    scope.postMessage({
      id,
      ok: true,
      rows: f.rows,
      timestampColumn: f.timestampColumn,
      timestamps: f.timestamps,
      columns: [...f.columns],
      skipped: f.skipped.map((s) => s.name),
    });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    scope.postMessage({ id, ok: false, error: err.name, message: err.message });
  }
};
