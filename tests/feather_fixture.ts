/**
 * Test helper: the columns behind tests/fixtures/feather_writer/ (made by scripts/make_feather_writer_fixture.ts
 * with the apache-arrow writer that pipeline/output.ts used before the part writer, io/feather_write.ts).
 * Deterministic, so a test can encode them again: pre-1970 and fractional-ms timestamps (rounded), a smooth
 * column (compresses), a scrambled one (stored as-is: prefix -1) and every awkward f64 (NaN, ±Infinity, -0,
 * the least subnormal, the largest finite).
 */

/** Rows in each fixture file. */
export const FEATHER_FIXTURE_ROWS = 400;

/** The fixture's columns and timestamps. */
export function featherFixtureInput(): {
  columns: Map<string, Float64Array>;
  timestamps: { name: string; values: Float64Array };
} {
  const n = FEATHER_FIXTURE_ROWS;
  const t0 = Date.UTC(1969, 11, 31, 23, 0) + 0.4;
  let s = 7;
  const scrambled = Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 1e3;
  });
  const odd = [NaN, Infinity, -Infinity, -0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2];
  return {
    timestamps: { name: "timestamp", values: Float64Array.from({ length: n }, (_, i) => t0 + i * 60_000.3) },
    columns: new Map([
      ["close", Float64Array.from({ length: n }, (_, i) => 100 + (i % 40) * 0.25)],
      ["noise", scrambled],
      ["odd", Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? odd[(i / 3) % odd.length] : i / 7))],
    ]),
  };
}
